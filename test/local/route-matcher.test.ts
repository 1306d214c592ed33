import { describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../lambdas/contract.js';
import { routeMatcher } from '../../local/api/route-matcher.js';

const match = routeMatcher(Object.values(API_ROUTES));

describe('matching requests to route keys as API Gateway does', () => {
  it.each([
    ['POST', '/v1/uploads', API_ROUTES.createUpload, undefined],
    ['GET', '/v1/uploads/abc', API_ROUTES.getUpload, { uploadId: 'abc' }],
    ['GET', '/v1/images/a%20b', API_ROUTES.getImage, { imageId: 'a b' }],
    ['GET', '/v1/images', API_ROUTES.listImages, undefined],
    ['GET', '/v1/search', API_ROUTES.search, undefined],
    ['GET', '/v1/images/abc/similar', API_ROUTES.similarImages, { imageId: 'abc' }],
  ])('%s %s → %s', (method, path, routeKey, pathParameters) => {
    expect(match(method, path)).toEqual({ routeKey, pathParameters });
  });

  it.each([
    ['GET', '/v1/uploads'],
    ['PUT', '/v1/uploads'],
    ['GET', '/v1/images/'],
    ['GET', '/v1/images/a/b'],
    ['GET', '/V1/images'],
    ['GET', '/'],
  ])('finds no route for %s %s', (method, path) => {
    expect(match(method, path)).toBeUndefined();
  });
});

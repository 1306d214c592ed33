/**
 * The HTTP API's route keys (API Gateway v2 `routeKey` syntax). The construct creates exactly these
 * routes and the API handler dispatches on them, so the two cannot drift apart.
 */
export const API_ROUTES = {
  createUpload: 'POST /v1/uploads',
  getUpload: 'GET /v1/uploads/{uploadId}',
  getImage: 'GET /v1/images/{imageId}',
  listImages: 'GET /v1/images',
  deleteImage: 'DELETE /v1/images/{imageId}',
} as const;

export type ApiRouteKey = (typeof API_ROUTES)[keyof typeof API_ROUTES];

/**
 * The upload routes' answers, as zod schemas with their types inferred, like the image views
 * (`image-views.ts`): what the routes build and what the OpenAPI document publishes are one definition.
 */

import { z } from 'zod';
import { MAX_PARTS } from './multipart.js';

const timestampSchema = z.iso.datetime();
const headersSchema = z.record(z.string(), z.string());
const partNumberSchema = z.number().int().min(1).max(MAX_PARTS);

/** `POST /v1/uploads` answered 201: the presigned upload and which upload it is, until when. */
export const uploadGrantViewSchema = z.strictObject({
  uploadId: z.string(),
  method: z.enum(['POST', 'PUT']),
  url: z.string(),
  fields: headersSchema.describe('Form fields for a POST upload (the file goes last); empty for PUT.'),
  headers: headersSchema.describe('Headers the client must send with a PUT upload; empty for POST.'),
  expiresAt: timestampSchema.describe('When the URL stops working.'),
});
export type UploadGrantView = z.output<typeof uploadGrantViewSchema>;

/** `POST /v1/uploads` with `method: "MULTIPART"` answered 201. */
export const multipartGrantViewSchema = z.strictObject({
  uploadId: z.string(),
  method: z.literal('MULTIPART'),
  key: z.string(),
  partSize: z.number().int().positive().describe('Bytes of every part but the last, which is the rest.'),
  partCount: z.number().int().min(1).max(MAX_PARTS),
  expiresAt: timestampSchema.describe("When the upload as a whole is abandoned (the lifecycle rule's age)."),
});
export type MultipartGrantView = z.output<typeof multipartGrantViewSchema>;

/** `POST /v1/uploads` answered 201, by the request's `method`. */
export const uploadGrantSchema = z.discriminatedUnion('method', [
  uploadGrantViewSchema,
  multipartGrantViewSchema,
]);

/** `POST /v1/uploads` answered 200: the owner already has these bytes, so nothing is to be sent. */
export const duplicateUploadViewSchema = z.strictObject({ duplicate: z.literal(true), imageId: z.string() });
export type DuplicateUploadView = z.output<typeof duplicateUploadViewSchema>;

/** `POST /v1/uploads/{uploadId}/parts/{partNumber}`: what `@uppy/aws-s3`'s `signPart` returns. */
export const partUrlViewSchema = z.strictObject({
  url: z.string(),
  headers: headersSchema.describe('Headers the client must send with the part; may be empty.'),
  expiresAt: timestampSchema,
});
export type PartUrlView = z.output<typeof partUrlViewSchema>;

/** One entry of `GET /v1/uploads/{uploadId}/parts`, in AWS's own field names, as `listParts` expects. */
export const listedPartViewSchema = z.strictObject({
  PartNumber: partNumberSchema,
  Size: z.number().int().min(0),
  ETag: z.string().describe('As S3 gives it, quoted.'),
});
export type ListedPartView = z.output<typeof listedPartViewSchema>;

/** `GET /v1/uploads/{uploadId}/parts`: every part S3 holds, so a client that lost its state sends only the rest. */
export const listedPartsSchema = z.strictObject({ parts: z.array(listedPartViewSchema) });
export type ListedParts = z.output<typeof listedPartsSchema>;

/** `POST /v1/uploads/{uploadId}/complete` answered 200. */
export const completedUploadViewSchema = z.strictObject({
  uploadId: z.string(),
  location: z.string().optional(),
});
export type CompletedUploadView = z.output<typeof completedUploadViewSchema>;

/** What `POST /v1/uploads/{uploadId}/complete` takes: the parts the client sent, by number, with S3's ETag for each. */
export const completeUploadRequestSchema = z.strictObject({
  parts: z
    .array(z.object({ PartNumber: partNumberSchema, ETag: z.string().min(1).max(1024) }))
    .max(MAX_PARTS),
});
export type CompleteUploadRequest = z.input<typeof completeUploadRequestSchema>;

import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { TooLargeError, UnsupportedImageError, ValidationError } from './errors.js';
import { formatOfMimeType, INPUT_FORMATS, type InputFormat } from './formats.js';
import { uploadKey } from './keys.js';
import { type PartPlan, planParts } from './multipart.js';
import type { Settings } from './settings.js';
import { describeIssues } from './validation.js';

/** POST and PUT send the file in one request; MULTIPART in parts, each signed on its own, resumable. */
export type UploadMethod = 'POST' | 'PUT' | 'MULTIPART';
export type SingleUploadMethod = Exclude<UploadMethod, 'MULTIPART'>;

/** A collection name: a label the owner groups images by, safe in keys and URLs. */
export const collectionSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, "_", "." and "-", at most 64');

/** What `POST /v1/uploads` accepts. Unknown fields are refused so typos surface instead of being ignored. */
export const uploadRequestSchema = z.strictObject({
  contentType: z.string().min(1).max(255),
  size: z.number().int().positive(),
  filename: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters')
    .optional(),
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits')
    .transform((hex) => hex.toLowerCase())
    .optional(),
  collection: collectionSchema.optional(),
  method: z.enum(['POST', 'PUT', 'MULTIPART']).default('POST'),
});

export type UploadRequest = z.output<typeof uploadRequestSchema>;

/** Checks a request body against the schema and the settings' limits; throws the error the caller earned. */
export function parseUploadRequest(
  body: unknown,
  settings: Settings,
): UploadRequest & { format: InputFormat } {
  const parsed = uploadRequestSchema.safeParse(body);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    const path = issue?.code === 'unrecognized_keys' ? issue.keys : (issue?.path ?? []);
    throw new ValidationError(describeIssues(parsed.error), path.join('.') || 'body');
  }
  const request = parsed.data;
  const format = formatOfMimeType(request.contentType);
  if (!format || !settings.allowedFormats.includes(format)) {
    throw new UnsupportedImageError(`content type ${request.contentType} is not accepted`, {
      contentType: request.contentType,
      accepted: settings.allowedFormats.map((f) => INPUT_FORMATS[f]),
    });
  }
  if (request.size > settings.maxUploadBytes) {
    throw new TooLargeError(
      `size ${request.size} is above the limit of ${settings.maxUploadBytes} bytes`,
      'size',
      {
        size: request.size,
        limit: settings.maxUploadBytes,
      },
    );
  }
  return { ...request, format };
}

/** 128 random bits as hex: unguessable, and never derived from anything the user sent. */
export function newUploadId(): string {
  return randomBytes(16).toString('hex');
}

/** Everything a presigned upload is bound to. The object store turns it into a URL; nothing here is user-named. */
interface GrantTerms {
  uploadId: string;
  key: string;
  /** The one MIME type S3 will accept, normalised from the sniffable format. */
  contentType: string;
  /** The exact byte count S3 will accept. */
  size: number;
  sha256: string | undefined;
  /** Travels with the object so ingest can tie it back to its owner without trusting the request again. */
  metadata: Record<string, string>;
  /** Single: when the URL stops working. Multipart: when the upload as a whole is abandoned. */
  expiresAt: Date;
}

export type SingleUploadGrant = GrantTerms & { method: SingleUploadMethod };
export type MultipartUploadGrant = GrantTerms & { method: 'MULTIPART'; plan: PartPlan };
export type UploadGrant = SingleUploadGrant | MultipartUploadGrant;

const DAY_MS = 24 * 3600 * 1000;

export const UPLOAD_METADATA = {
  owner: 'owner',
  uploadId: 'upload-id',
  collection: 'collection',
} as const;

export function grantUpload(
  request: UploadRequest & { format: InputFormat },
  owner: string,
  settings: Settings,
  now: Date,
  uploadId: string = newUploadId(),
): UploadGrant {
  const metadata: Record<string, string> = {
    [UPLOAD_METADATA.owner]: owner,
    [UPLOAD_METADATA.uploadId]: uploadId,
  };
  if (request.collection) metadata[UPLOAD_METADATA.collection] = request.collection;
  const terms: GrantTerms = {
    uploadId,
    key: uploadKey(uploadId),
    contentType: INPUT_FORMATS[request.format],
    size: request.size,
    sha256: request.sha256,
    metadata,
    expiresAt: new Date(now.getTime() + settings.presignTtlSeconds * 1000),
  };
  if (request.method !== 'MULTIPART') return { ...terms, method: request.method };
  return {
    ...terms,
    method: 'MULTIPART',
    plan: planParts(request.size),
    expiresAt: new Date(now.getTime() + settings.multipartUploadDays * DAY_MS),
  };
}

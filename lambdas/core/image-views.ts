/**
 * Catalog records → the API's JSON. Pure: what a caller may see is decided here, in one place, so
 * shared fields (reference counts, the upload that created an image, other owners' dates) cannot leak
 * through a route that forgets to drop them. Every view is built field by field, never by spreading
 * a record.
 *
 * Each view's type is inferred from its zod schema, which the OpenAPI document is generated from
 * (`lambdas/handlers/openapi.ts`): the JSON a route builds and the contract it publishes are one
 * definition. The schemas are strict, so a field added to a view and not to its schema fails the
 * build here, and a field the schema lacks fails the test that validates real answers.
 */

import { z } from 'zod';
import { DERIVATIVES_PREFIX } from '../contract.js';
import type { Enrichment } from './enrichment.js';
import { INPUT_FORMAT_NAMES, OUTPUT_FORMAT_NAMES } from './formats.js';
import type { ImageFacts } from './image-facts.js';
import { derivativeKey, negotiatedKey } from './keys.js';
import { PALETTE_COLOURS } from './palette.js';
import { REJECTION_REASONS, type Rejection, type RejectionReason } from './rejections.js';
import { orientedSize, place, type Size } from './render/geometry.js';
import { hasVariantPage } from './render/pages.js';
import type { Placeholder } from './render/placeholder.js';
import type { TechnicalMetadata } from './render/technical-metadata.js';
import { type VariantSpec, variantSpecSchema } from './variants.js';

/** ISO 8601 in UTC, as `Date.toISOString()` writes it. */
const timestampSchema = z.iso.datetime();
const variantStatusSchema = z.enum(['pending', 'ready', 'skipped', 'failed']);
const imageStatusSchema = z.enum(['processing', 'ready', 'failed']);
const rejectionReasonSchema = z
  .enum(REJECTION_REASONS)
  .describe('Why the upload was refused or the image failed; only ever gains members.');
/** A count or a size: JSON numbers the views only ever fill with whole ones. */
const wholeSchema = z.number().int().min(0);

/**
 * The parts of the catalog port's records a view reads, stated structurally because core does not
 * import ports; passing a record of the port's types checks that the two still agree.
 */
type VariantStatus = z.output<typeof variantStatusSchema>;

interface UploadRecordLike {
  uploadId: string;
  state: 'pending' | 'accepted' | 'rejected';
  createdAt: Date;
  imageId?: string | undefined;
  rejection?: Rejection | undefined;
}

interface ImageRecordLike extends ImageFacts {
  imageId: string;
  status: z.output<typeof imageStatusSchema>;
  variants: Record<string, VariantStatus>;
  failure?: Rejection | undefined;
  placeholder?: Placeholder | undefined;
  technicalMetadata?: TechnicalMetadata | undefined;
  enrichment?: Enrichment | undefined;
}

interface ImageLinkLike {
  imageId: string;
  uploadId: string;
  collection: string | undefined;
  filename: string | undefined;
  linkedAt: Date;
  nearDuplicateOf?: string | undefined;
}

export const uploadViewSchema = z.strictObject({
  uploadId: z.string(),
  /** An upload's own state until accepted, then its image's. */
  status: z.enum(['pending', 'rejected', ...imageStatusSchema.options]),
  createdAt: timestampSchema,
  imageId: z.string().optional(),
  reason: rejectionReasonSchema.optional(),
  message: z.string().optional(),
});
export type UploadView = z.output<typeof uploadViewSchema>;

/**
 * `GET /v1/uploads/{uploadId}`: the upload's own state until it is accepted, then its image's.
 * `image` is the record the accepted upload points at; an accepted upload whose image is gone has
 * no status to report, so the caller answers it as not found.
 */
export function uploadView(upload: UploadRecordLike, image: ImageRecordLike | undefined): UploadView {
  const base = { uploadId: upload.uploadId, createdAt: upload.createdAt.toISOString() };
  switch (upload.state) {
    case 'pending':
      return { ...base, status: 'pending' };
    case 'rejected':
      return { ...base, status: 'rejected', ...problem(upload.rejection) };
    case 'accepted': {
      if (!image) throw new RangeError(`accepted upload ${upload.uploadId} needs its image to be viewed`);
      return {
        ...base,
        status: image.status,
        imageId: image.imageId,
        ...(image.status === 'failed' ? problem(image.failure) : {}),
      };
    }
  }
}

export const variantViewSchema = z.strictObject({
  name: z.string(),
  fit: variantSpecSchema.shape.fit,
  /** The box. */
  width: wholeSchema,
  height: wholeSchema,
  watermarked: z
    .boolean()
    .describe('Whether a mark is tiled over it (a preview to show in place of the unmarked variants).'),
  status: variantStatusSchema,
  output: z
    .strictObject({ width: wholeSchema, height: wholeSchema })
    .describe(
      "The size rendered from the box and the upright original (page 1's, for a multi-page TIFF); once ready.",
    )
    .optional(),
  url: z
    .string()
    .describe(
      'The CDN URL that serves the best format the viewer accepts (AVIF, WebP, then JPEG); once ready.',
    )
    .optional(),
  urls: z
    .partialRecord(z.enum(OUTPUT_FORMAT_NAMES), z.string())
    .describe('One CDN URL per encoding; once ready.')
    .optional(),
});
export type VariantView = z.output<typeof variantViewSchema>;

/** A confidence-rated label (a tag, a moderation label). */
const labelSchema = z.strictObject({ name: z.string(), confidence: z.number().min(0).max(1) });

export const enrichmentViewSchema = z.strictObject({
  status: z.enum(['pending', 'done', 'failed']),
  tags: z.array(labelSchema).optional(),
  caption: z
    .strictObject({
      text: z.string(),
      source: z.string().describe('The model that wrote it, or `template` when written from the tags.'),
    })
    .optional(),
  colours: z
    .array(
      z.strictObject({
        hex: z.string().regex(/^#[0-9a-f]{6}$/),
        name: z.enum(PALETTE_COLOURS),
        share: z.number().min(0).max(1),
      }),
    )
    .optional(),
  moderation: z
    .strictObject({ labels: z.array(labelSchema), flagged: z.boolean(), held: z.boolean() })
    .describe('`held`: flagged, and the deployment holds flagged images back: no variant has a URL.')
    .optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});
export type EnrichmentView = z.output<typeof enrichmentViewSchema>;

export const imageViewSchema = z.strictObject({
  imageId: z.string(),
  status: imageStatusSchema,
  format: z.enum(INPUT_FORMAT_NAMES),
  contentType: z.string(),
  width: wholeSchema,
  height: wholeSchema,
  pages: wholeSchema,
  animated: z.boolean(),
  hasAlpha: z.boolean(),
  bytes: wholeSchema,
  createdAt: timestampSchema.describe(
    "When the image entered the caller's library (their link), never when anyone else uploaded it.",
  ),
  collection: z.string().optional(),
  filename: z.string().optional(),
  uploadId: z.string(),
  reason: rejectionReasonSchema.optional(),
  message: z.string().optional(),
  placeholder: z
    .strictObject({
      thumbHash: z.string().describe('ThumbHash of the upright picture, standard base64.'),
      dominantColour: z.string().regex(/^#[0-9a-f]{6}$/),
    })
    .describe('What to show while a variant loads; once the thumbnails are rendered.')
    .optional(),
  technicalMetadata: z
    .strictObject({
      cameraMake: z.string().optional(),
      cameraModel: z.string().optional(),
      lens: z.string().optional(),
      iso: z.number().optional(),
      exposureTime: z.number().describe('Seconds.').optional(),
      fNumber: z.number().optional(),
      focalLength: z.number().describe('Millimetres, as on the lens.').optional(),
      takenAt: z
        .string()
        .describe("ISO 8601 in the camera's local time, with its UTC offset when the camera recorded one.")
        .optional(),
      latitude: z.number().optional(),
      longitude: z.number().optional(),
    })
    .describe(
      'What the camera recorded (GPS only with `settings.keepGpsMetadata`); once the thumbnails are rendered.',
    )
    .optional(),
  enrichment: enrichmentViewSchema
    .describe('What the enrichment lane found; absent for an image it was never queued for.')
    .optional(),
  nearDuplicateOf: z
    .string()
    .describe("The caller's own earlier image this one looks like (re-encoded, resized, cropped), if any.")
    .optional(),
  variants: z.array(variantViewSchema),
});
export type ImageView = z.output<typeof imageViewSchema>;

/** How a deployment shows images: `settings.enrichment.moderation.holdFlagged`. */
export interface ViewPolicy {
  holdFlagged: boolean;
}

/**
 * `GET /v1/images/{imageId}` for the owner of `link`. The variants are the *current* variant set's, so
 * a variant added since the image was rendered shows as `pending`; one the set no longer has is
 * not shown.
 */
export function imageView(
  image: ImageRecordLike,
  link: ImageLinkLike,
  variants: readonly VariantSpec[],
  cdnBaseUrl: string,
  policy: ViewPolicy = { holdFlagged: false },
): ImageView {
  if (link.imageId !== image.imageId) {
    throw new RangeError(`link to ${link.imageId} cannot describe image ${image.imageId}`);
  }
  const enrichment = image.enrichment && enrichmentView(image.enrichment, policy);
  const held = enrichment?.moderation?.held === true;
  return {
    imageId: image.imageId,
    status: image.status,
    format: image.format,
    contentType: image.contentType,
    width: image.width,
    height: image.height,
    pages: image.pages,
    animated: image.animated,
    hasAlpha: image.hasAlpha,
    bytes: image.bytes,
    createdAt: link.linkedAt.toISOString(),
    collection: link.collection,
    filename: link.filename,
    uploadId: link.uploadId,
    ...(image.status === 'failed' ? problem(image.failure) : {}),
    ...(image.placeholder ? { placeholder: placeholderView(image.placeholder) } : {}),
    ...(image.technicalMetadata ? { technicalMetadata: technicalMetadataView(image.technicalMetadata) } : {}),
    ...(enrichment ? { enrichment } : {}),
    ...(link.nearDuplicateOf ? { nearDuplicateOf: link.nearDuplicateOf } : {}),
    variants: variants.map((spec) => variantView(image, spec, held ? undefined : cdnBaseUrl)),
  };
}

function enrichmentView(enrichment: Enrichment, policy: ViewPolicy): EnrichmentView {
  const { moderation } = enrichment;
  return {
    status: enrichment.status,
    ...(enrichment.tags
      ? { tags: enrichment.tags.map(({ name, confidence }) => ({ name, confidence })) }
      : {}),
    ...(enrichment.caption
      ? { caption: { text: enrichment.caption.text, source: enrichment.caption.source } }
      : {}),
    ...(enrichment.colours
      ? { colours: enrichment.colours.map(({ hex, name, share }) => ({ hex, name, share })) }
      : {}),
    ...(moderation
      ? {
          moderation: {
            labels: moderation.labels.map(({ name, confidence }) => ({ name, confidence })),
            flagged: moderation.flagged,
            held: moderation.flagged && policy.holdFlagged,
          },
        }
      : {}),
    ...(enrichment.status === 'failed' && enrichment.failure
      ? { reason: enrichment.failure.reason, message: enrichment.failure.message }
      : {}),
  };
}

/** Without a CDN base URL (an image held back by moderation), ready variants get no URLs. */
function variantView(image: ImageRecordLike, spec: VariantSpec, cdnBaseUrl: string | undefined): VariantView {
  const status = image.variants[spec.name] ?? 'pending';
  const view: VariantView = {
    name: spec.name,
    fit: spec.fit,
    width: spec.width,
    height: spec.height,
    watermarked: spec.watermark !== undefined,
    status,
  };
  if (status !== 'ready' || cdnBaseUrl === undefined) return view;
  const page = describedPage(image, spec);
  return {
    ...view,
    output: renderedSize(spec, image),
    url: cdnUrl(cdnBaseUrl, negotiatedKey(image.imageId, spec, page)),
    urls: Object.fromEntries(
      spec.formats.map(({ format }) => [
        format,
        cdnUrl(cdnBaseUrl, derivativeKey(image.imageId, spec, format, page)),
      ]),
    ),
  };
}

/** A variant rendered per page (a multi-page TIFF's `inside` ones) is described by its page 1. */
function describedPage(image: ImageRecordLike, spec: VariantSpec): number | undefined {
  return hasVariantPage(image, spec, 1) ? 1 : undefined;
}

/** What `place` gives the upright original; a fresh object, since `place` may hand back its input. */
function renderedSize(spec: VariantSpec, image: ImageRecordLike): Size {
  const { width, height } = place(
    spec,
    orientedSize({ width: image.width, height: image.height }, image.orientation),
  ).output;
  return { width, height };
}

function placeholderView(placeholder: Placeholder): Placeholder {
  return { thumbHash: placeholder.thumbHash, dominantColour: placeholder.dominantColour };
}

function technicalMetadataView(metadata: TechnicalMetadata): TechnicalMetadata {
  return {
    cameraMake: metadata.cameraMake,
    cameraModel: metadata.cameraModel,
    lens: metadata.lens,
    iso: metadata.iso,
    exposureTime: metadata.exposureTime,
    fNumber: metadata.fNumber,
    focalLength: metadata.focalLength,
    takenAt: metadata.takenAt,
    latitude: metadata.latitude,
    longitude: metadata.longitude,
  };
}

/**
 * The CDN serves the image bucket with origin path `/derived`, so `derived/X` is `{cdnBaseUrl}/X`.
 * Only derivative keys have a CDN URL.
 */
export function cdnUrl(cdnBaseUrl: string, key: string): string {
  if (!key.startsWith(DERIVATIVES_PREFIX)) throw new RangeError(`not served by the CDN: ${key}`);
  return `${cdnBaseUrl.replace(/\/+$/, '')}/${key.slice(DERIVATIVES_PREFIX.length)}`;
}

export const linkViewSchema = z.strictObject({
  imageId: z.string(),
  collection: z.string().optional(),
  filename: z.string().optional(),
  uploadId: z.string(),
  linkedAt: timestampSchema,
});
export type LinkView = z.output<typeof linkViewSchema>;

/** One entry of `GET /v1/images`: the caller's own link, never the shared image record. */
export function linkView(link: ImageLinkLike): LinkView {
  return {
    imageId: link.imageId,
    collection: link.collection,
    filename: link.filename,
    uploadId: link.uploadId,
    linkedAt: link.linkedAt.toISOString(),
  };
}

const cursorSchema = z.string().describe('Pass as `cursor` to get the next page; absent on the last.');

/** `GET /v1/images`. */
export const imagePageSchema = z.strictObject({
  items: z.array(linkViewSchema),
  cursor: cursorSchema.optional(),
});
export type ImagePage = z.output<typeof imagePageSchema>;

/** `GET /v1/search`: `semantic` says whether `q` was ranked by meaning rather than matched word by word. */
export const searchPageSchema = z.strictObject({
  items: z.array(imageViewSchema),
  cursor: cursorSchema.optional(),
  semantic: z.boolean(),
});
export type SearchPage = z.output<typeof searchPageSchema>;

/** One near-duplicate: the image as `GET /v1/images/{id}` shows it, and how many bits it is away. */
export const similarImageViewSchema = imageViewSchema.extend({ distance: wholeSchema });
export type SimilarImageView = z.output<typeof similarImageViewSchema>;

/** `GET /v1/images/{imageId}/similar`, nearest first. */
export const similarImagesSchema = z.strictObject({ items: z.array(similarImageViewSchema) });
export type SimilarImages = z.output<typeof similarImagesSchema>;

function problem(rejection: Rejection | undefined): { reason?: RejectionReason; message?: string } {
  return rejection ? { reason: rejection.reason, message: rejection.message } : {};
}

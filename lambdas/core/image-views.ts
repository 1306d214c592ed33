/**
 * Catalog records → the API's JSON. Pure: what a caller may see is decided here, in one place, so
 * shared fields (reference counts, the upload that created an image, other owners' dates) cannot leak
 * through a route that forgets to drop them. Every view is built field by field, never by spreading
 * a record.
 */

import { DERIVATIVES_PREFIX } from '../contract.js';
import type {
  Caption,
  DominantColour,
  Enrichment,
  EnrichmentStatus,
  ModerationLabel,
  Tag,
} from './enrichment.js';
import type { OutputFormat } from './formats.js';
import type { ImageFacts } from './image-facts.js';
import { derivativeKey, negotiatedKey } from './keys.js';
import type { Rejection, RejectionReason } from './rejections.js';
import { orientedSize, place, type Size } from './render/geometry.js';
import { hasVariantPage } from './render/pages.js';
import type { Placeholder } from './render/placeholder.js';
import type { TechnicalMetadata } from './render/technical-metadata.js';
import type { VariantSpec } from './variants.js';

/**
 * The parts of the catalog port's records a view reads, stated structurally because core does not
 * import ports; passing a record of the port's types checks that the two still agree.
 */
type VariantStatus = 'pending' | 'ready' | 'skipped' | 'failed';

interface UploadRecordLike {
  uploadId: string;
  state: 'pending' | 'accepted' | 'rejected';
  createdAt: Date;
  imageId?: string | undefined;
  rejection?: Rejection | undefined;
}

interface ImageRecordLike extends ImageFacts {
  imageId: string;
  status: 'processing' | 'ready' | 'failed';
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

/** An upload's own state until accepted, then its image's. */
type UploadStatus = 'pending' | 'rejected' | ImageRecordLike['status'];

export interface UploadView {
  uploadId: string;
  status: UploadStatus;
  createdAt: string;
  imageId?: string;
  reason?: RejectionReason;
  message?: string;
}

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

export interface VariantView {
  name: string;
  fit: VariantSpec['fit'];
  /** The box. */
  width: number;
  height: number;
  /** Whether a mark is tiled over it (a preview to show in place of the unmarked variants). */
  watermarked: boolean;
  status: VariantStatus;
  /** The size rendered from the box and the upright original (page 1's, for a multi-page TIFF); once ready. */
  output?: Size;
  /** The CDN URL that serves the best format the viewer accepts (AVIF, WebP, then JPEG); once ready. */
  url?: string;
  /** One CDN URL per encoding; once ready. */
  urls?: Partial<Record<OutputFormat, string>>;
}

export interface ImageView {
  imageId: string;
  status: ImageRecordLike['status'];
  format: ImageFacts['format'];
  contentType: string;
  width: number;
  height: number;
  pages: number;
  animated: boolean;
  hasAlpha: boolean;
  bytes: number;
  /** When the image entered the caller's library (their link), never when anyone else uploaded it. */
  createdAt: string;
  collection: string | undefined;
  filename: string | undefined;
  uploadId: string;
  reason?: RejectionReason;
  message?: string;
  /** What to show while a variant loads; once the thumbnails are rendered. */
  placeholder?: Placeholder;
  /** What the camera recorded (GPS only with `settings.keepGpsMetadata`); once the thumbnails are rendered. */
  technicalMetadata?: TechnicalMetadata;
  /** What the enrichment lane found, and where it stands; absent for an image it was never queued for. */
  enrichment?: EnrichmentView;
  /** The caller's own earlier image this one looks like (re-encoded, resized, cropped), if any. */
  nearDuplicateOf?: string;
  variants: VariantView[];
}

export interface EnrichmentView {
  status: EnrichmentStatus;
  tags?: Tag[];
  caption?: Caption;
  colours?: Array<Pick<DominantColour, 'hex' | 'name' | 'share'>>;
  /** `held`: flagged, and the deployment holds flagged images back: no variant has a URL. */
  moderation?: { labels: ModerationLabel[]; flagged: boolean; held: boolean };
  reason?: string;
  message?: string;
}

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

export interface LinkView {
  imageId: string;
  collection: string | undefined;
  filename: string | undefined;
  uploadId: string;
  linkedAt: string;
}

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

function problem(rejection: Rejection | undefined): { reason?: RejectionReason; message?: string } {
  return rejection ? { reason: rejection.reason, message: rejection.message } : {};
}

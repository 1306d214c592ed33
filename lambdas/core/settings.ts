import { z } from 'zod';
import { INPUT_FORMAT_NAMES } from './formats.js';
import { describeIssues } from './validation.js';
import { DEFAULT_VARIANTS, variantSetSchema } from './variants.js';

const MIB = 1024 * 1024;

/**
 * What the enrichment lane makes for every image, off unless `enabled`: each model is a paid service
 * on AWS (`aperture cost` prices them). The model ids name the AWS models; locally the offline
 * models stand in for them whatever they say.
 */
export const enrichmentSettingsSchema = z.strictObject({
  /** Run the enrichment lane: tags and dominant colours for every image, plus what is enabled below. */
  enabled: z.boolean().default(false),
  /** Which tags are kept: at least this confident (0–1), at most this many, most confident first. */
  tags: z
    .strictObject({
      minConfidence: z.number().min(0).max(1).default(0.6),
      maxTags: z.number().int().min(1).max(100).default(20),
    })
    .default({ minConfidence: 0.6, maxTags: 20 }),
  /** A one-sentence caption by a multimodal model (Amazon Bedrock `Converse`). */
  captions: z
    .strictObject({
      enabled: z.boolean().default(true),
      modelId: z.string().min(1).default('amazon.nova-lite-v1:0'),
    })
    .default({ enabled: true, modelId: 'amazon.nova-lite-v1:0' }),
  /**
   * An image embedding in a text–image space (Bedrock Titan Multimodal Embeddings), stored in the
   * vector index so that `q` ranks images by meaning. A new model or size means a new index.
   */
  embeddings: z
    .strictObject({
      enabled: z.boolean().default(true),
      modelId: z.string().min(1).default('amazon.titan-embed-image-v1'),
      dimensions: z.union([z.literal(256), z.literal(384), z.literal(1024)]).default(1024),
    })
    .default({ enabled: true, modelId: 'amazon.titan-embed-image-v1', dimensions: 1024 }),
  /**
   * Moderation labels (Rekognition `DetectModerationLabels`), recorded on the image; with
   * `holdFlagged`, an image flagged at `minConfidence` or above is shown without its URLs.
   */
  moderation: z
    .strictObject({
      enabled: z.boolean().default(false),
      minConfidence: z.number().min(0).max(1).default(0.8),
      holdFlagged: z.boolean().default(false),
    })
    .default({ enabled: false, minConfidence: 0.8, holdFlagged: false }),
});

export type EnrichmentSettings = z.output<typeof enrichmentSettingsSchema>;

/** SQS holds a message out of sight for 12 hours at most (`ChangeMessageVisibility`). */
const MAX_RETRY_DELAY_SECONDS = 12 * 3600;

/** Standard Webhooks' (Svix's) schedule: about 27.5 hours from the first attempt to the last. */
const DEFAULT_RETRY_SCHEDULE_SECONDS = [5, 300, 1800, 7200, 18000, 36000, 36000];

/**
 * How webhook deliveries are retried (docs/webhooks.md). The schedule also sizes the deliveries queue:
 * its `maxReceiveCount` is one more than the schedule's length, then the delivery is parked in its
 * dead-letter queue.
 */
export const webhookSettingsSchema = z.strictObject({
  /**
   * The waits, in seconds, before each retry of a failed delivery: after the first attempt the first
   * wait, and so on; once they are used up the delivery is parked. Up to 20 waits of at most 12 hours
   * each: 10 days together at most, inside the 14 days SQS keeps a message.
   */
  retryScheduleSeconds: z
    .array(z.number().int().min(0).max(MAX_RETRY_DELAY_SECONDS))
    .max(20)
    .default(() => [...DEFAULT_RETRY_SCHEDULE_SECONDS]),
  /** Webhook endpoints one owner may register. */
  maxEndpointsPerOwner: z.number().int().min(1).max(100).default(10),
});

export type WebhookSettings = z.output<typeof webhookSettingsSchema>;

/**
 * The pipeline's policy: what it accepts and what it makes. The construct validates these at synth
 * time and hands them to every function in one environment variable, so both sides read one schema.
 */
export const settingsSchema = z.strictObject({
  /** Input formats accepted, judged from the bytes; any other is rejected as `format_not_allowed`. */
  allowedFormats: z
    .array(z.enum(INPUT_FORMAT_NAMES))
    .min(1)
    .default([...INPUT_FORMAT_NAMES]),
  /**
   * Largest upload accepted, in bytes. Ingest holds an upload in memory: at 256 MiB its peak is about
   * 700 MB of its 1,024 (docs/benchmarks.md), so a higher limit wants more ingest memory. S3 single
   * PUT/POST uploads stop at 5 GiB.
   */
  maxUploadBytes: z
    .number()
    .int()
    .min(1)
    .max(5 * 1024 * MIB)
    .default(256 * MIB),
  /** Largest decoded image accepted, in pixels (width x height x pages): the guard against pixel floods. */
  maxInputPixels: z.number().int().min(1).default(100_000_000),
  /** How long a presigned upload stays usable. Short by design: a leaked URL soon stops working. */
  presignTtlSeconds: z.number().int().min(10).max(3600).default(300),
  /**
   * How many days a multipart upload may take from its start, resumed as often as needed: then the
   * upload bucket's lifecycle rule aborts it (S3 acts at the next midnight UTC after that age) and
   * its parts stop being billed. Each part's URL still lives `presignTtlSeconds` only.
   */
  multipartUploadDays: z.number().int().min(1).max(30).default(1),
  /** The variant set: what every image is rendered to (see `variants.ts`). */
  variants: variantSetSchema.default(() => structuredClone([...DEFAULT_VARIANTS])),
  /** Keep GPS coordinates in the technical metadata stored on image records. Outputs never carry any. */
  keepGpsMetadata: z.boolean().default(false),
  /**
   * Fingerprint every image (a perceptual hash of its thumbnail) so that an owner's re-encoded,
   * resized or slightly cropped copies are found (`GET /v1/images/{id}/similar`). On by default: it
   * costs a few milliseconds of the thumbnails lane and a few small catalog items per image.
   */
  nearDuplicates: z.boolean().default(true),
  /** Tags, captions, colours, moderation and embeddings of every image, made after its thumbnails. */
  enrichment: enrichmentSettingsSchema.default(() => enrichmentSettingsSchema.parse({})),
  /** Retries of webhook deliveries, and how many endpoints an owner may register. */
  webhooks: webhookSettingsSchema.default(() => webhookSettingsSchema.parse({})),
});

export type Settings = z.output<typeof settingsSchema>;
export type SettingsInput = z.input<typeof settingsSchema>;

/** Validates and fills defaults; throws naming every offending field. */
export function parseSettings(input: SettingsInput = {}): Settings {
  const parsed = settingsSchema.safeParse(input);
  if (!parsed.success) throw new RangeError(`invalid Aperture settings: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

import {
  DetectLabelsCommand,
  DetectModerationLabelsCommand,
  type RekognitionClient,
} from '@aws-sdk/client-rekognition';
import type { ModerationLabel, Tag } from '../../core/enrichment.js';
import type { Moderator, Tagger } from '../../ports/enrichment.js';
import { toRefusalError } from './dependency-errors.js';

/** Rekognition's confidences, asked and answered, are percentages; the ports' are 0–1. */
const PERCENT = 100;

/** 0.55 × 100 is 55.00000000000001 in floating point: the request says 55. */
function toPercent(fraction: number): number {
  return Math.round(fraction * PERCENT * 1000) / 1000;
}

interface RekognitionLabel {
  Name?: string | undefined;
  Confidence?: number | undefined;
}

/** Labels as the ports give them; a label without a name or a confidence says nothing and is dropped. */
function fromPercent(labels: readonly RekognitionLabel[] | undefined): Tag[] {
  return (labels ?? []).flatMap(({ Name, Confidence }) =>
    Name === undefined || Confidence === undefined ? [] : [{ name: Name, confidence: Confidence / PERCENT }],
  );
}

/**
 * Tags from Amazon Rekognition `DetectLabels`. Rekognition reads raw bytes up to 5 MB, JPEG or PNG, 80
 * to 10,000 px on each edge: the analysis image fits, unless its short edge is under 80 px, which
 * Rekognition refuses (a DependencyRefusedError, `input_refused`). Both calls below share these limits.
 */
export class RekognitionTagger implements Tagger {
  /** Constant: it is part of the enrichment version, known before any call. */
  readonly modelId = 'rekognition:detect-labels';

  constructor(
    private readonly rekognition: RekognitionClient,
    /** At most `maxLabels` labels, none below `minConfidence` (0–1). */
    private readonly options: { maxLabels: number; minConfidence: number },
  ) {}

  async tag(jpeg: Buffer): Promise<Tag[]> {
    try {
      const { Labels } = await this.rekognition.send(
        new DetectLabelsCommand({
          Image: { Bytes: jpeg },
          MaxLabels: this.options.maxLabels,
          MinConfidence: toPercent(this.options.minConfidence),
        }),
      );
      return fromPercent(Labels);
    } catch (error) {
      throw toRefusalError(error, 'detect labels', { bytes: jpeg.length });
    }
  }
}

/** Moderation labels from Amazon Rekognition `DetectModerationLabels`. */
export class RekognitionModerator implements Moderator {
  readonly modelId = 'rekognition:detect-moderation-labels';

  constructor(
    private readonly rekognition: RekognitionClient,
    /** Labels below `minConfidence` (0–1) are not returned. */
    private readonly options: { minConfidence: number },
  ) {}

  async moderate(jpeg: Buffer): Promise<ModerationLabel[]> {
    try {
      const { ModerationLabels } = await this.rekognition.send(
        new DetectModerationLabelsCommand({
          Image: { Bytes: jpeg },
          MinConfidence: toPercent(this.options.minConfidence),
        }),
      );
      return fromPercent(ModerationLabels);
    } catch (error) {
      throw toRefusalError(error, 'detect moderation labels', { bytes: jpeg.length });
    }
  }
}

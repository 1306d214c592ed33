import type { Settings } from '../../lambdas/core/settings.js';
import { variantSetVersion } from '../../lambdas/core/variants.js';
import type { ImageRecord } from '../../lambdas/ports/catalog.js';

/** An image record as ingest would have made it, for planting; fields overridable. */
export function imageRecord(
  imageId: string,
  settings: Settings,
  fields: Partial<ImageRecord> = {},
): ImageRecord {
  return {
    imageId,
    format: 'jpeg',
    contentType: 'image/jpeg',
    width: 1600,
    height: 1200,
    pages: 1,
    orientation: undefined,
    hasAlpha: false,
    hasIcc: false,
    animated: false,
    bytes: 1000,
    status: 'ready',
    variantSetVersion: variantSetVersion(settings.variants),
    refCount: 1,
    createdAt: new Date(),
    createdByUpload: '0'.repeat(32),
    jobsQueuedAt: new Date(),
    variants: Object.fromEntries(settings.variants.map((v) => [v.name, 'ready' as const])),
    ...fields,
  };
}

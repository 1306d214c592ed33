import { parseSettings } from '../../lambdas/core/settings.js';
import type { VariantSpec } from '../../lambdas/core/variants.js';

/** What the reconcile tests plant and judge with: the default settings, and a clock past every threshold. */
export const settings = parseSettings();
export const HOUR = 3_600_000;
/** Past every threshold: an hour for stuck work, the URL's lifetime plus ingest's six hours for uploads. */
export const later = () => new Date(Date.now() + 7 * HOUR);
export const variant = (name: string) => settings.variants.find((v) => v.name === name) as VariantSpec;
export const skippedAll = Object.fromEntries(settings.variants.map((v) => [v.name, 'skipped' as const]));

/**
 * The offline tagger: CenterNet (80 COCO object classes) as `@vladmandic/human` ships it, on
 * TensorFlow.js's WebAssembly backend. The weights come from the package's own `models/` folder and the
 * wasm binaries from `@tensorflow/tfjs-backend-wasm`: nothing is downloaded, ever.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Config, Human } from '@vladmandic/human';
import type { Tag } from '../../lambdas/core/enrichment.js';
import { decodeAnalysisImage } from '../../lambdas/core/render/analysis-image.js';
import type { Tagger } from '../../lambdas/ports/enrichment.js';

const require = createRequire(import.meta.url);
/**
 * The package's `dist` folder, found through its main entry. Its `exports` map names the builds as
 * conditions rather than subpaths, so the wasm build can only be loaded by its file path.
 */
const HUMAN_DIST = path.dirname(require.resolve('@vladmandic/human'));
const MODELS = path.join(HUMAN_DIST, '..', 'models');
const WASM_DIST = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));

/**
 * Detections below this are not returned: Human's own default for CenterNet. Its scores run low
 * (0.5–0.7 for a clear person, 0.2–0.3 for a bird in flight), and flat colours alone score up to 0.22:
 * the tag policy's threshold decides what is kept.
 */
const MIN_SCORE = 0.2;
/** Detections kept by non-maximum suppression before they are grouped by class: enough for a crowded scene. */
const MAX_DETECTIONS = 100;

/** Only CenterNet: every other model Human has is off, so none is loaded or run. */
const CONFIG: Partial<Config> = {
  backend: 'wasm',
  wasmPath: `${WASM_DIST}${path.sep}`,
  modelBasePath: `${pathToFileURL(MODELS).href}/`,
  debug: false,
  // Nothing to warm up, cache or skip: each call is a new picture, and results must not depend on the last one.
  warmup: 'none',
  cacheModels: false,
  cacheSensitivity: 0,
  skipAllowed: false,
  async: false,
  filter: { enabled: false },
  face: { enabled: false },
  body: { enabled: false },
  hand: { enabled: false },
  gesture: { enabled: false },
  segmentation: { enabled: false },
  object: {
    enabled: true,
    modelPath: 'centernet.json',
    minConfidence: MIN_SCORE,
    maxDetected: MAX_DETECTIONS,
  },
};

/** The model could not be loaded from the package: a broken install, permanent until it is fixed. */
export class TaggerModelError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TaggerModelError';
  }
}

/** The parts of TensorFlow.js (Human's own copy, `human.tf`) used here. */
interface Tf {
  tensor3d(values: Float32Array, shape: [number, number, number], dtype: 'float32'): { dispose(): void };
  io: {
    registerLoadRouter(router: (url: unknown) => ModelHandler | null): void;
    getLoadHandlers(url: string): unknown[];
    getModelArtifactsForJSON(
      json: unknown,
      loadWeights: (manifest: WeightGroup[]) => Promise<[unknown[], ArrayBuffer]>,
    ): Promise<unknown>;
  };
}
interface ModelHandler {
  load(): Promise<unknown>;
}
interface WeightGroup {
  paths: string[];
  weights: unknown[];
}

/**
 * Lets TensorFlow.js load models from `file:` URLs under the package's models folder: its loader
 * fetches, and Node's `fetch` cannot read files. Registered once per TensorFlow.js instance (a second
 * router answering the same URL would make it refuse to choose).
 */
function serveModelFiles(tf: Tf): void {
  const prefix = `${pathToFileURL(MODELS).href}/`;
  if (tf.io.getLoadHandlers(`${prefix}${CONFIG.object?.modelPath}`).length > 0) return;
  tf.io.registerLoadRouter((url) => {
    if (typeof url !== 'string' || !url.startsWith(prefix)) return null;
    const file = fileURLToPath(url);
    return {
      async load() {
        const json = JSON.parse(await readFile(file, 'utf8'));
        return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
          const shards: Buffer[] = [];
          for (const group of manifest) {
            for (const shard of group.paths)
              shards.push(await readFile(path.join(path.dirname(file), shard)));
          }
          const weights = Buffer.concat(shards);
          return [
            manifest.flatMap((group) => group.weights),
            weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
          ];
        });
      },
    };
  });
}

/** Human with CenterNet loaded, made once per process (the backend and the model are process-wide). */
let loading: Promise<Human> | undefined;

function loadHuman(): Promise<Human> {
  loading ??= (async () => {
    const { Human: HumanClass } = require(path.join(HUMAN_DIST, 'human.node-wasm.js')) as {
      Human: new (config: Partial<Config>) => Human;
    };
    const human = new HumanClass(CONFIG);
    serveModelFiles(human.tf as Tf);
    await human.load();
    // Human logs a model it could not load and carries on without it; here that is an error.
    const centernet = human.models.stats().modelStats.find((model) => model.name === 'centernet');
    if (!centernet?.loaded) throw new TaggerModelError(`CenterNet did not load from ${MODELS}`);
    return human;
  })().catch((error: unknown) => {
    loading = undefined;
    throw error instanceof TaggerModelError
      ? error
      : new TaggerModelError(`the tagger's model could not be loaded: ${String(error)}`, { cause: error });
  });
  return loading;
}

/** The detection running now, if any: Human keeps per-call state, so calls take turns. */
let running: Promise<unknown> = Promise.resolve();

/** Tags from CenterNet's detections: one per class found, with its best detection's score. */
export class HumanTagger implements Tagger {
  readonly modelId: string;

  constructor() {
    const { version } = JSON.parse(readFileSync(path.join(HUMAN_DIST, '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    this.modelId = `human-centernet@${version}`;
  }

  /** Loads the model now rather than on the first image (it is loaded once, whoever asks first). */
  async load(): Promise<void> {
    await loadHuman();
  }

  async tag(jpeg: Buffer): Promise<Tag[]> {
    const [human, pixels] = await Promise.all([loadHuman(), decodeAnalysisImage(jpeg)]);
    const detect = async () => {
      const tensor = (human.tf as Tf).tensor3d(
        Float32Array.from(pixels.data),
        [pixels.height, pixels.width, 3],
        'float32',
      );
      try {
        return await human.detect(tensor as unknown as Parameters<Human['detect']>[0]);
      } finally {
        tensor.dispose();
      }
    };
    const result = running.then(detect, detect);
    running = result.catch(() => undefined);
    const { error, object } = await result;
    if (error) throw new TaggerModelError(`CenterNet failed: ${error}`);
    const best = new Map<string, number>();
    for (const detection of object)
      best.set(detection.label, Math.max(best.get(detection.label) ?? 0, detection.score));
    return [...best].map(([name, confidence]) => ({ name, confidence }));
  }
}

// What every runner shares: turning "a graph for this shape" into a cached session. On a miss the
// graph is built, its external data is filled from the checkpoint (through the weight hook), the
// session is created, and the external buffers are dropped (ORT keeps its own copy).
// A part can switch between weight variants (checkpoint as is, LoRA-merged, another VAE, an extended
// token table): sessions are keyed by variant and shape, so switching back to a recent variant
// reuses its session while the LRU still holds it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuiltGraph } from '../graph/builder.js';
import type { EngineRuntime, EngineSession, FeedTensor } from './ort-backend.js';
import { reportPartLoad } from './load-events.js';
import { SessionCache } from './session-cache.js';
import { materializeWeights, stageWeightsOnDisk } from './weights.js';
import type { WeightHook, WeightSource } from './weights.js';

export interface ModelPartOptions {
  runtime: EngineRuntime;
  source: WeightSource;
  weightHook?: WeightHook;
  /** Sessions kept per part (each holds a copy of the part's weights). Default 2. */
  maxSessions?: number;
  /**
   * How weights reach ONNX Runtime: 'memory' hands them over as in-memory external data (ORT
   * copies them, so the load peak holds them twice); 'disk' writes them tensor by tensor to a
   * temporary folder that ORT loads by path, then deletes it (one copy at peak). 'auto' (default)
   * uses disk for parts above DISK_STAGING_BYTES.
   */
  weightsVia?: 'memory' | 'disk' | 'auto';
  /** Where 'disk' staging writes (default: the OS temp folder). */
  stagingDir?: string;
}

/** Parts larger than this load through a temporary file (full-size UNets and text encoders). */
export const DISK_STAGING_BYTES = 256 * 1024 * 1024;

/** Weights of a part other than the checkpoint's: `id` keys the sessions, `source` supplies tensors. */
export interface PartWeights {
  readonly id: string;
  readonly source: WeightSource;
}

export const BASE_WEIGHTS_ID = 'base';

export class ModelPart {
  private readonly cache: SessionCache;
  private weights: PartWeights;
  /** Sessions created so far (all variants and shapes), for tests and benchmarks. */
  sessionsCreated = 0;
  /** Milliseconds spent so far building graphs, filling weights and creating sessions (for benchmarks). */
  readonly loadMs = { graph: 0, weights: 0, session: 0 };

  constructor(
    readonly label: string,
    private readonly opts: ModelPartOptions,
  ) {
    this.cache = new SessionCache(opts.maxSessions ?? 2);
    this.weights = { id: BASE_WEIGHTS_ID, source: opts.source };
  }

  /** `variant|shape` keys that currently have a session. */
  cachedShapes(): string[] {
    return this.cache.keys();
  }

  /** The id of the weights new runs use. */
  get weightsId(): string {
    return this.weights.id;
  }

  /** Shapes of the current weights (an extended token table is larger than the checkpoint's). */
  shape(key: string): readonly number[] | undefined {
    return this.weights.source.shape(key);
  }

  /** Switches the weights later runs use (null: the checkpoint's); same id = nothing changes. */
  useWeights(weights: PartWeights | null): void {
    this.weights = weights ?? { id: BASE_WEIGHTS_ID, source: this.opts.source };
  }

  private async create(build: () => BuiltGraph, source: WeightSource): Promise<EngineSession> {
    this.sessionsCreated++;
    reportPartLoad(this.label, 'graph');
    let t = performance.now();
    const graph = build();
    this.loadMs.graph += performance.now() - t;
    reportPartLoad(this.label, 'weights');
    const bytes = graph.externalFiles.reduce((n, f) => n + f.byteLength, 0);
    const via = this.opts.weightsVia ?? 'auto';
    if (via === 'disk' || (via === 'auto' && bytes > DISK_STAGING_BYTES)) {
      const dir = await mkdtemp(join(this.opts.stagingDir ?? tmpdir(), 'easel-weights-'));
      try {
        t = performance.now();
        const modelPath = await stageWeightsOnDisk(graph, source, dir, this.opts.weightHook);
        this.loadMs.weights += performance.now() - t;
        reportPartLoad(this.label, 'session');
        t = performance.now();
        const session = await this.opts.runtime.createSessionFromFile(graph.name, modelPath);
        this.loadMs.session += performance.now() - t;
        reportPartLoad(this.label, 'ready');
        return session;
      } finally {
        // ORT has read (or mapped) the data; an unlinked mapped file stays valid until released.
        await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      }
    }
    t = performance.now();
    const external = await materializeWeights(graph, source, this.opts.weightHook);
    this.loadMs.weights += performance.now() - t;
    reportPartLoad(this.label, 'session');
    t = performance.now();
    const session = await this.opts.runtime.createSession(graph, external);
    this.loadMs.session += performance.now() - t;
    reportPartLoad(this.label, 'ready');
    return session;
  }

  /** Runs the session for `shapeKey` (built by `build` on first use) and returns its outputs. */
  run(shapeKey: string, build: () => BuiltGraph, feeds: Readonly<Record<string, FeedTensor>>): Promise<Record<string, Float32Array>> {
    const w = this.weights;
    return this.cache.use(`${w.id}|${shapeKey}`, () => this.create(build, w.source), (s) => s.run(feeds));
  }

  /** Creates the session for `shapeKey` now, so that the first real call does not pay for it. */
  prepare(shapeKey: string, build: () => BuiltGraph): Promise<void> {
    const w = this.weights;
    return this.cache.use(`${w.id}|${shapeKey}`, () => this.create(build, w.source), async () => undefined);
  }

  /** Frees this part's sessions (memory) while keeping it usable. */
  release(): Promise<void> {
    return this.cache.clear();
  }

  dispose(): Promise<void> {
    return this.cache.dispose();
  }
}

// The only module that imports onnxruntime-node. It turns a built graph plus its in-memory
// external data into a session, runs it with plain typed arrays, and picks the execution
// provider: CPU (fp32) by default, CUDA (fp16) when asked for and installed. onnxruntime-node
// installs its CUDA provider library only with `--onnxruntime-node-install=cuda12`; without it,
// asking for CUDA must give a coded error, never a crash or a silent CPU fallback.
//
// Facts (onnxruntime-node 1.30): session creation and run() block the JS thread for their whole
// duration; external data passed from memory is copied into the session; the CUDA provider takes
// only `deviceId` from JS.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';
import { GraphBuilder } from '../graph/builder.js';
import type { BuiltGraph, Precision } from '../graph/builder.js';
import { CUDA_UNAVAILABLE_MESSAGE, EngineError } from './engine-error.js';
import type { ExternalFile } from './weights.js';

export type Device = 'cpu' | 'cuda';

export interface EngineRuntimeOptions {
  device?: Device;
  deviceId?: number;
  /** Defaults: fp32 on CPU, fp16 on CUDA. */
  precision?: Precision;
  /** CPU threads per session (default: ORT's choice, one per core). */
  intraOpThreads?: number;
}

export type FeedTensor =
  | { readonly dtype: 'float32'; readonly data: Float32Array; readonly dims: readonly number[] }
  | { readonly dtype: 'int64'; readonly data: BigInt64Array; readonly dims: readonly number[] }
  | { readonly dtype: 'int32'; readonly data: Int32Array; readonly dims: readonly number[] };

export interface EngineSession {
  readonly label: string;
  /** Runs the graph; every output comes back as float32. */
  run(feeds: Readonly<Record<string, FeedTensor>>): Promise<Record<string, Float32Array>>;
  dispose(): Promise<void>;
}

export interface EngineRuntime {
  readonly device: Device;
  readonly precision: Precision;
  createSession(graph: BuiltGraph, externalData: readonly ExternalFile[]): Promise<EngineSession>;
  /** A session from a model written to disk (stageWeightsOnDisk), its external data beside it. */
  createSessionFromFile(name: string, modelPath: string, opts?: FileSessionOptions): Promise<EngineSession>;
  /** onnxruntime-node's version (part of the load cache key: another ORT may optimize differently). */
  readonly ortVersion: string;
}

/** How createSessionFromFile treats the model (see native/runtime/load-cache.ts). */
export interface FileSessionOptions {
  /**
   * Also write ORT's optimized model here, its initializers in the file `weightsFile` beside it
   * (a name, not a path), for a later `preOptimized` load.
   */
  saveOptimized?: { modelPath: string; weightsFile: string };
  /** The model is ORT's own optimized output: open it with graph optimizations off. */
  preOptimized?: boolean;
}

const CUDA_PROVIDER_LIBS: Record<string, string> = {
  linux: 'libonnxruntime_providers_cuda.so',
  win32: 'onnxruntime_providers_cuda.dll',
};

/** Where onnxruntime-node keeps its native binding and provider libraries on this platform. */
function bindingDir(): string {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('onnxruntime-node'); // .../onnxruntime-node/dist/index.js
  return join(dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

/** True when the CUDA provider library sits next to the binding (the cuda12 install was done). */
export function cudaProviderInstalled(): boolean {
  const lib = CUDA_PROVIDER_LIBS[process.platform];
  return lib !== undefined && existsSync(join(bindingDir(), lib));
}

class OrtSession implements EngineSession {
  private session: ort.InferenceSession | undefined;

  constructor(
    readonly label: string,
    session: ort.InferenceSession,
  ) {
    this.session = session;
  }

  async run(feeds: Readonly<Record<string, FeedTensor>>): Promise<Record<string, Float32Array>> {
    const session = this.session;
    if (!session) throw new EngineError('disposed', `session ${this.label} was disposed`);
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, f] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(f.dtype, f.data, [...f.dims]);
    let results: ort.InferenceSession.OnnxValueMapType;
    try {
      results = await session.run(ortFeeds);
    } catch (err) {
      throw new EngineError('run_failed', `${this.label}: ${(err as Error).message}`, { cause: err });
    }
    const out: Record<string, Float32Array> = {};
    for (const [name, t] of Object.entries(results)) {
      const tensor = t as ort.Tensor;
      if (tensor.type !== 'float32') throw new EngineError('run_failed', `${this.label}: output ${name} is ${tensor.type}, expected float32`);
      out[name] = tensor.data as Float32Array;
    }
    return out;
  }

  async dispose(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    await s?.release();
  }
}

class OrtRuntime implements EngineRuntime {
  constructor(
    readonly device: Device,
    readonly precision: Precision,
    private readonly deviceId: number,
    private readonly intraOpThreads: number | undefined,
  ) {}

  private sessionOptions(externalData: readonly ExternalFile[]): ort.InferenceSession.SessionOptions {
    const providers: ort.InferenceSession.ExecutionProviderConfig[] =
      this.device === 'cuda' ? [{ name: 'cuda', deviceId: this.deviceId }, 'cpu'] : ['cpu'];
    return {
      executionProviders: providers,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      logSeverityLevel: 3,
      // ORT's memory pattern plans one block for a run's intermediates and allocates it beside the
      // CPU arena the first run grew: a full-size SD1.5 UNet step at 512² then holds 4.75 GiB
      // instead of 4.12, at the same speed (measured side by side, docs/engine-speed.md).
      ...(this.device === 'cpu' ? { enableMemPattern: false } : {}),
      ...(this.intraOpThreads ? { intraOpNumThreads: this.intraOpThreads } : {}),
      externalData: externalData.map((f) => ({ path: f.path, data: f.data })),
    };
  }

  async createSession(graph: BuiltGraph, externalData: readonly ExternalFile[]): Promise<EngineSession> {
    return this.create(graph.name, () => ort.InferenceSession.create(graph.model, this.sessionOptions(externalData)));
  }

  get ortVersion(): string {
    return ort.env.versions.node ?? ort.env.versions.common;
  }

  async createSessionFromFile(name: string, modelPath: string, opts: FileSessionOptions = {}): Promise<EngineSession> {
    const { externalData: _none, ...options } = this.sessionOptions([]);
    if (opts.preOptimized) options.graphOptimizationLevel = 'disabled';
    if (opts.saveOptimized) {
      options.optimizedModelFilePath = opts.saveOptimized.modelPath;
      // Initializers of 1 KiB and more go to the one external file (a UNet's weights would break
      // the protobuf's 2 GB limit); small ones (Reshape shapes, which shape inference must read
      // inline) stay in the model.
      options.extra = {
        session: {
          optimized_model_external_initializers_file_name: opts.saveOptimized.weightsFile,
          optimized_model_external_initializers_min_size_in_bytes: '65536',
        },
      };
    }
    return this.create(name, () => ort.InferenceSession.create(modelPath, options));
  }

  private async create(name: string, make: () => Promise<ort.InferenceSession>): Promise<EngineSession> {
    try {
      return new OrtSession(name, await make());
    } catch (err) {
      const message = (err as Error).message;
      if (this.device === 'cuda' && /cuda|shared library/i.test(message)) {
        throw new EngineError('cuda_unavailable', `${CUDA_UNAVAILABLE_MESSAGE} (${message})`, { cause: err });
      }
      throw new EngineError('session_failed', `cannot create session ${name}: ${message}`, { cause: err });
    }
  }
}

/** A one-node graph used to prove that the CUDA provider really loads on this machine. */
function probeGraph(): BuiltGraph {
  const g = new GraphBuilder({ name: 'cuda-probe' });
  const x = g.input('x', 'float32', [1]);
  g.output(g.op('Add', [x, g.scalar(1, 'float32')]), 'y');
  return g.build();
}

/**
 * The engine's handle on ONNX Runtime. Example:
 * `const rt = await createEngineRuntime({ device: 'cpu' });`
 * With `device: 'cuda'` it loads the CUDA provider once up front and rejects with
 * `EngineError('cuda_unavailable')` when the provider or the GPU is missing.
 */
export async function createEngineRuntime(opts: EngineRuntimeOptions = {}): Promise<EngineRuntime> {
  const device = opts.device ?? 'cpu';
  const precision = opts.precision ?? (device === 'cuda' ? 'fp16' : 'fp32');
  const runtime = new OrtRuntime(device, precision, opts.deviceId ?? 0, opts.intraOpThreads);
  if (device === 'cuda') {
    if (!cudaProviderInstalled()) throw new EngineError('cuda_unavailable', CUDA_UNAVAILABLE_MESSAGE);
    const probe = await runtime.createSession(probeGraph(), []);
    await probe.dispose();
  }
  return runtime;
}

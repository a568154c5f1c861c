// ControlNet on the server side, in one place the socket handlers and the HTTP routes share: unit
// checks for generate (server/controlnet/unit-check.ts over the module table and the model files),
// the extension's model and module lists, and preprocessor previews run on the engine worker.
import type { ModelEntry, ModelType } from '../protocol/actions.js';
import type { ControlNetUnit } from '../protocol/controlnet.js';
import { EaselError } from '../protocol/errors.js';
import type { WorkerCapabilities, PreprocessOutput } from '../../native/worker-protocol.js';
import { findControlNetModule, listControlNetModules, type ControlNetModule, type SliderSpec } from '../../native/controlnet/modules.js';
import { ControlNetModels, type ControlNetModel } from './controlnet-models.js';
import { checkControlNetUnits } from './unit-check.js';

export interface ControlNetServiceDeps {
  modelsDir: string;
  listModels: (type?: ModelType) => Promise<ModelEntry[]>;
  capabilities: () => WorkerCapabilities | undefined;
  /** The engine worker's preprocessor (EngineSupervisor.preprocess). */
  preprocess: (params: Record<string, unknown>, signal?: AbortSignal) => Promise<PreprocessOutput>;
  /** The checkpoint a job without `model` runs on (the server default), when there is one. */
  defaultCheckpoint?: () => string | undefined;
  imageExists: (id: string) => boolean;
}

/** One slider as /controlnet/module_list's `module_detail` describes it (`PreprocessorParameter.api_json`). */
export interface SliderJson {
  name: string;
  value: number;
  min: number;
  max: number;
  step: number;
}

export interface ModuleDetail {
  model_free: boolean;
  sliders: SliderJson[];
  /** Easel's addition: false for modules this build does not compute, with the reason. */
  available: boolean;
  unavailable_reason?: string;
}

export interface PreprocessRequest {
  module: string;
  image: Uint8Array;
  mask?: Uint8Array | undefined;
  processor_res?: number | undefined;
  threshold_a?: number | undefined;
  threshold_b?: number | undefined;
}

const sliderJson = (s: SliderSpec): SliderJson => ({ name: s.label, value: s.value, min: s.min, max: s.max, step: s.step });

/** Modules the extension's detect refuses: they make embeddings, not images. */
const DETECT_UNSUPPORTED = new Set(['clip_vision', 'revision_clipvision', 'revision_ignore_prompt', 'ip-adapter-auto']);

export class ControlNetService {
  readonly models: ControlNetModels;

  constructor(private readonly deps: ControlNetServiceDeps) {
    this.models = new ControlNetModels({ modelsDir: deps.modelsDir, listModels: deps.listModels });
  }

  /** Throws `not_implemented` (HTTP 501) naming ControlNet when the worker cannot run it. */
  requireCapability(): void {
    if (!this.deps.capabilities()?.controlnet) throw new EaselError('not_implemented', 'ControlNet is not available in this engine build', { field: 'controlnet' });
  }

  /** Checks the units of a generate request; returns the enabled ones with their model resolved. */
  async checkUnits(units: readonly ControlNetUnit[], checkpoint: string | undefined): Promise<ControlNetUnit[]> {
    return checkControlNetUnits(units, {
      findModule: (name) => {
        const m = findControlNetModule(name);
        return m && { name: m.name, available: m.available, ...(m.unavailableReason ? { reason: m.unavailableReason } : {}) };
      },
      resolveModel: (model) => this.models.resolve(model),
      checkpointFamily: async () => {
        const name = checkpoint ?? this.deps.defaultCheckpoint?.();
        const list = await this.deps.listModels('checkpoint');
        // Without a name the engine takes the first checkpoint of the folder, by name.
        const entry = name !== undefined ? list.find((m) => m.name === name) : list.filter((m) => !m.name.includes('/'))[0];
        return entry?.family;
      },
      imageExists: this.deps.imageExists,
    });
  }

  /** GET /controlnet/model_list: `stem [hash8]` of every file. */
  async modelTitles(): Promise<string[]> {
    return (await this.models.list()).map((m) => m.title);
  }

  async listModels(): Promise<ControlNetModel[]> {
    return this.models.list();
  }

  /** GET /controlnet/module_list: names (or UI labels) in the extension's order, with slider specs. */
  moduleList(aliasNames: boolean): { module_list: string[]; module_detail: Record<string, ModuleDetail> } {
    const mods = listControlNetModules();
    const key = (m: ControlNetModule): string => (aliasNames ? m.label : m.name);
    const detail: Record<string, ModuleDetail> = {};
    for (const m of mods) {
      const s = m.sliders;
      detail[key(m)] = {
        model_free: m.modelFree,
        sliders: [s.processorRes, s.thresholdA, s.thresholdB].filter((x) => x.visible).map(sliderJson),
        available: m.available,
        ...(m.unavailableReason ? { unavailable_reason: m.unavailableReason } : {}),
      };
    }
    return { module_list: mods.map(key), module_detail: detail };
  }

  /**
   * Runs one preprocessor on the worker and answers the hint PNG. Unknown modules are
   * `invalid_params`, unavailable ones `not_implemented`, both naming `field`.
   */
  async preprocess(req: PreprocessRequest, field = 'module', signal?: AbortSignal): Promise<PreprocessOutput> {
    const m = findControlNetModule(req.module);
    if (!m) throw new EaselError('invalid_params', `${field}: unknown preprocessor "${req.module}" (GET /controlnet/module_list lists them)`, { field });
    if (!m.available || DETECT_UNSUPPORTED.has(m.name)) {
      throw new EaselError('not_implemented', `${field}: the preprocessor "${req.module}" is not available in this build${m.unavailableReason ? `: ${m.unavailableReason}` : ''}`, { field });
    }
    // No capability gate: a worker without `preprocess` answers not_implemented itself.
    const params: Record<string, unknown> = { module: req.module, image: req.image };
    if (req.mask) params.mask = req.mask;
    for (const k of ['processor_res', 'threshold_a', 'threshold_b'] as const) if (req[k] !== undefined) params[k] = req[k];
    return this.deps.preprocess(params, signal);
  }
}

// Prompt expansion as the engine worker offers it: the `enhance` IPC request (socket action
// `enhance_prompt`) and `enhance_prompt` inside a generate job, which expands the prompt first and
// reports the expanded prompt as the effective one (so the infotext reproduces the image) plus where
// it came from. One LmHost per worker process, created on first use; LmError codes become the wire's.
import { randomInt } from 'node:crypto';
import type { Device } from '../runtime/ort-backend.js';
import { WorkerError, type EnhanceOutput, type EnhanceRunHooks, type RunHooks, type RunOutput } from '../worker-protocol.js';
import { LmHost, type EnhanceParams } from './lm-host.js';
import { LmError, type LmErrorCode } from './lm-error.js';

const WIRE_CODES: Record<LmErrorCode, string> = {
  lm_model_not_found: 'model_not_found',
  lm_bad_config: 'unsupported_model',
  lm_bad_tokenizer: 'unsupported_model',
  lm_missing_weight: 'unsupported_model',
  lm_bad_weight: 'unsupported_model',
  lm_bad_params: 'invalid_params',
  lm_prompt_too_long: 'invalid_params',
  lm_cancelled: 'cancelled',
  lm_unavailable: 'engine_unavailable',
};

let host: LmHost | undefined;

function lmHost(): LmHost {
  const idle = Number(process.env.ENHANCE_IDLE_S);
  const threads = Number(process.env.ENHANCE_THREADS);
  host ??= new LmHost({
    modelsDir: process.env.MODELS_DIR ?? 'models',
    device: (process.env.ENGINE_DEVICE === 'cuda' ? 'cuda' : 'cpu') satisfies Device,
    ...(Number.isFinite(idle) && idle > 0 ? { idleMs: idle * 1000 } : {}),
    ...(process.env.ENHANCE_MODEL ? { defaultModel: process.env.ENHANCE_MODEL } : {}),
    ...(Number.isInteger(threads) && threads > 0 ? { intraOpThreads: threads } : {}),
  });
  return host;
}

function toWorkerError(err: unknown): unknown {
  return err instanceof LmError ? new WorkerError(WIRE_CODES[err.code], err.message) : err;
}

/** The `enhance` request: `enhance_prompt`'s payload in, `{ prompts, info }` out. */
export async function runEnhance(params: Record<string, unknown>, hooks: EnhanceRunHooks): Promise<EnhanceOutput> {
  try {
    const r = await lmHost().expand(params as unknown as EnhanceParams, hooks);
    return { prompts: r.prompts, info: { model: r.model, seeds: r.seeds, settings: r.settings } };
  } catch (err) {
    throw toWorkerError(err);
  }
}

/** `enhance_prompt` of a generate job: `true` or a settings object (the action's fields without `prompt`). */
function enhanceSettings(v: unknown): Omit<EnhanceParams, 'prompt'> | undefined {
  if (v === true) return {};
  if (typeof v === 'object' && v !== null && (v as { enabled?: unknown }).enabled !== false) {
    const { enabled: _enabled, ...rest } = v as Record<string, unknown>;
    return rest as Omit<EnhanceParams, 'prompt'>;
  }
  return undefined;
}

/**
 * Runs `generate` after expanding the prompt when the params ask for it. The expansion's seed is its
 * settings' seed, else the image seed, else a random one; all three land in the infotext.
 */
export async function enhanceBeforeGenerate(
  params: Record<string, unknown>,
  hooks: RunHooks,
  generate: (params: Record<string, unknown>, hooks: RunHooks) => Promise<RunOutput>,
): Promise<RunOutput> {
  const settings = enhanceSettings(params.enhance_prompt);
  const { enhance_prompt: _drop, ...rest } = params;
  if (!settings) return generate(rest, hooks);
  const original = typeof params.prompt === 'string' ? params.prompt : '';
  const imageSeed = typeof params.seed === 'number' && params.seed >= 0 ? params.seed : undefined;
  const seed = settings.seed ?? imageSeed ?? randomInt(0, 2 ** 32 - 1);
  let expanded: { prompt: string; model: string };
  try {
    const r = await lmHost().expand({ ...settings, prompt: original, n: 1, seed }, { signal: hooks.signal });
    expanded = { prompt: r.prompts[0] ?? original, model: r.model };
  } catch (err) {
    throw toWorkerError(err);
  }
  const out = await generate({ ...rest, prompt: expanded.prompt }, hooks);
  const extra = Array.isArray(out.info.extra) ? (out.info.extra as unknown[]) : [];
  return {
    ...out,
    info: {
      ...out.info,
      prompt: expanded.prompt,
      extra: [...extra, ['Prompt enhancer', expanded.model], ['Enhancer seed', seed], ['Original prompt', original]],
    },
  };
}

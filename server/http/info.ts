// GET /api/info: what a client needs to build its form: the JSON Schema of GenerationParams (as
// input), the samplers and schedulers with their A1111 labels, the models and LoRAs on disk, the
// limits, and what the engine can currently do.
import { z } from 'zod';
import { SAMPLERS, SCHEDULERS } from '../../native/sampling/names.js';
import type { ModelEntry, ModelType } from '../protocol/actions.js';
import type { GenerationLimits } from '../protocol/generation.js';
import { makeGenerationParamsSchema } from '../protocol/generation.js';
import type { WorkerCapabilities } from '../../native/worker-protocol.js';

export const SERVER_VERSION = '0.1.0';

export interface InfoDeps {
  limits: GenerationLimits;
  listModels: (type?: ModelType) => Promise<ModelEntry[]>;
  capabilities: () => WorkerCapabilities | undefined;
}

type JsonObject = Record<string, unknown>;

export async function buildInfo(deps: InfoDeps): Promise<JsonObject> {
  const models = await deps.listModels();
  const byType = (t: ModelType): string[] => models.filter((m) => m.type === t).map((m) => m.name);
  // Transforms (sampler names → ids, base64 → bytes) cannot be expressed in JSON Schema, so describe the input side.
  const schema = z.toJSONSchema(makeGenerationParamsSchema(deps.limits), { io: 'input', unrepresentable: 'any' }) as JsonObject;
  const props = (schema.properties ?? {}) as Record<string, JsonObject>;
  const samplerNames = SAMPLERS.flatMap((s) => [s.id, s.label]);
  if (props.sampler) props.sampler = { ...props.sampler, examples: samplerNames, description: 'sampler id or A1111 name (legacy "DPM++ 2M Karras" also accepted)' };
  if (props.scheduler) props.scheduler = { ...props.scheduler, enum: SCHEDULERS.flatMap((s) => [s.id, s.label]) };
  const checkpoints = byType('checkpoint');
  if (props.model && checkpoints.length > 0) props.model = { ...props.model, enum: checkpoints };
  return {
    version: SERVER_VERSION,
    generation_params: schema,
    samplers: SAMPLERS.map((s) => ({ id: s.id, label: s.label, aliases: s.aliases, default_scheduler: s.defaultScheduler })),
    schedulers: SCHEDULERS.map((s) => ({ id: s.id, label: s.label })),
    models: checkpoints,
    loras: byType('lora'),
    vaes: byType('vae'),
    embeddings: byType('embedding'),
    limits: {
      max_prompt_chars: deps.limits.maxPromptChars,
      max_image_bytes: deps.limits.maxImageBytes,
      max_image_pixels: deps.limits.maxImagePixels,
      max_side: deps.limits.maxSide,
      max_batch_size: deps.limits.maxBatchSize,
      max_n_iter: deps.limits.maxIter,
      max_loras: deps.limits.maxLoras,
    },
    engine: { capabilities: deps.capabilities() ?? null },
  };
}

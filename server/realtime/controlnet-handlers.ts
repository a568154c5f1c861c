// Socket actions and checks for ControlNet: `preprocess` (a preprocessor preview, run on the engine
// worker, acked with the hint PNG as binary) and the ControlNet part of `generate` (capability,
// modules, models, family: server/controlnet/controlnet-service.ts).
import { readFile } from 'node:fs/promises';
import { EaselError } from '../protocol/errors.js';
import type { ActionPayload } from '../protocol/actions.js';
import type { ActionHandler } from './ack.js';
import type { HandlerDeps } from './ports.js';

type GenerateParams = ActionPayload<'generate'>;

/**
 * The generate payload with its ControlNet units checked: refused with `not_implemented` when the
 * worker lacks the capability, enabled units kept with their model resolved, disabled ones dropped.
 */
export async function withCheckedControlNet(deps: HandlerDeps, p: GenerateParams): Promise<GenerateParams> {
  if (!p.controlnet) return p;
  const { controlnet, ...rest } = p;
  if (!controlnet.some((u) => u.enabled)) return rest;
  if (!deps.controlnet) throw new EaselError('not_implemented', 'ControlNet is not available in this server', { field: 'controlnet' });
  deps.controlnet.requireCapability();
  return { ...rest, controlnet: await deps.controlnet.checkUnits(controlnet, p.model) };
}

export function controlNetHandlers(deps: HandlerDeps) {
  const preprocess: ActionHandler<'preprocess'> = async (p) => {
    const cn = deps.controlnet;
    if (!cn) throw new EaselError('not_implemented', 'ControlNet is not available in this server', { field: 'module' });
    let image = p.image;
    if (image === undefined && p.image_id !== undefined) {
      const path = deps.imageFile?.(p.image_id);
      if (!path) throw new EaselError('not_found', `no image ${p.image_id}`, { field: 'image_id' });
      image = new Uint8Array(await readFile(path));
    }
    if (!image) throw new EaselError('invalid_params', 'image: give image or image_id', { field: 'image' });
    const out = await cn.preprocess({ module: p.module, image, mask: p.mask, processor_res: p.processor_res, threshold_a: p.threshold_a, threshold_b: p.threshold_b });
    return { png: out.png, mime: 'image/png' as const, width: out.width, height: out.height, info: out.info };
  };
  return { preprocess };
}

// The checks of `generate.controlnet[]` that need more than the schema: the worker can do
// ControlNet, each enabled unit's module exists and is available in this build, its model is a
// file in $MODELS_DIR/controlnet and of the checkpoint's family, and a gallery image it names
// exists. Errors name the unit and field (`controlnet.1.model`). Enabled units come back with
// `model` as the registry name the engine loads; disabled ones are dropped (the extension skips
// them), so the queue and the worker only see units that run.
import { EaselError } from '../protocol/errors.js';
import type { ControlNetUnit } from '../protocol/controlnet.js';
import type { ControlNetModel } from './controlnet-models.js';

/** What the checks need to know of a preprocessor (native/controlnet/modules.ts owns the table). */
export interface ModuleStatus {
  name: string;
  available: boolean;
  /** Why an unavailable module cannot run (model-based preprocessors come later). */
  reason?: string;
}

export interface UnitCheckDeps {
  /** A module by its name or its UI label; undefined when the extension has no such module. */
  findModule(name: string): ModuleStatus | undefined;
  resolveModel(model: string): Promise<ControlNetModel | undefined>;
  /** The family of the checkpoint the job will run on, when it is known (sd1, sd2, sd2-v, sdxl). */
  checkpointFamily(): Promise<string | undefined>;
  /** Does a gallery image with this id exist. */
  imageExists(id: string): boolean;
}

/** SD1 ControlNets run on SD1 checkpoints, SDXL ones on SDXL; sd2 and sd2-v are one family here. */
const familyGroup = (f: string): string => (f.startsWith('sd2') ? 'sd2' : f);
const FAMILY_NAMES: Record<string, string> = { sd1: 'SD 1.x', sd2: 'SD 2.x', sdxl: 'SDXL' };

/**
 * @example units = await checkControlNetUnits(p.controlnet ?? [], deps) // throws EaselError naming controlnet.N.field
 */
export async function checkControlNetUnits(units: readonly ControlNetUnit[], deps: UnitCheckDeps): Promise<ControlNetUnit[]> {
  const out: ControlNetUnit[] = [];
  let ckptFamily: string | undefined | null = null;
  for (const [i, u] of units.entries()) {
    if (!u.enabled) continue;
    const at = (field: string): { field: string } => ({ field: `controlnet.${i}.${field}` });
    const mod = deps.findModule(u.module);
    if (!mod) throw new EaselError('invalid_params', `controlnet.${i}.module: unknown preprocessor "${u.module}" (GET /controlnet/module_list lists them)`, at('module'));
    if (!mod.available) {
      throw new EaselError('not_implemented', `controlnet.${i}.module: the preprocessor "${u.module}" is not available in this build${mod.reason ? `: ${mod.reason}` : ''}`, at('module'));
    }
    if (u.model === 'None') throw new EaselError('invalid_params', `controlnet.${i}.model: choose a ControlNet model (GET /controlnet/model_list lists them)`, at('model'));
    const model = await deps.resolveModel(u.model);
    if (!model) throw new EaselError('invalid_params', `controlnet.${i}.model: no ControlNet model "${u.model}" in the controlnet folder`, at('model'));
    if (ckptFamily === null) ckptFamily = await deps.checkpointFamily();
    if (ckptFamily && ckptFamily !== 'unknown' && model.family !== 'unknown' && familyGroup(ckptFamily) !== familyGroup(model.family)) {
      const cn = FAMILY_NAMES[familyGroup(model.family)] ?? model.family;
      const ck = FAMILY_NAMES[familyGroup(ckptFamily)] ?? ckptFamily;
      throw new EaselError('model_family_mismatch', `controlnet.${i}.model: "${model.title}" is a ${cn} ControlNet; the checkpoint is ${ck}`, at('model'));
    }
    if (u.image_id !== undefined && !deps.imageExists(u.image_id)) throw new EaselError('not_found', `controlnet.${i}.image_id: no image ${u.image_id}`, at('image_id'));
    out.push({ ...u, model: model.name });
  }
  return out;
}

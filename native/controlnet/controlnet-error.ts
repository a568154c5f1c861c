// Errors of ControlNet model files and units: a stable code for callers (the worker forwards it to
// clients) and a message naming the file, unit or field.

export type ControlNetErrorCode =
  /** The file is a control model Easel does not run (T2I-Adapter, control-LoRA, IP-Adapter, SD2, ...). */
  | 'unsupported_controlnet'
  /** No ControlNet file of that name in `$MODELS_DIR/controlnet/`. */
  | 'controlnet_not_found'
  /** A unit's field is missing or invalid (names the unit and the field). */
  | 'bad_controlnet_unit'
  /** The ControlNet was made for another model family than the checkpoint. */
  | 'controlnet_family_mismatch';

export class ControlNetError extends Error {
  override readonly name = 'ControlNetError';
  constructor(
    readonly code: ControlNetErrorCode,
    message: string,
  ) {
    super(message);
  }
}

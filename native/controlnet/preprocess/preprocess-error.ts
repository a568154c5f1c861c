// Errors of the ControlNet module table and preprocessors: a stable code for the wire, a message
// for people that names the module (or the field) at fault.

export type ControlNetPreprocessErrorCode =
  /** The module id is neither a name nor a label the extension registers. */
  | 'unknown_controlnet_module'
  /** The extension has the module, Easel does not compute it yet (model-based preprocessors). */
  | 'controlnet_module_unavailable'
  /** Bad image / mask / size arguments. */
  | 'bad_input';

export class ControlNetPreprocessError extends Error {
  override readonly name = 'ControlNetPreprocessError';
  constructor(
    readonly code: ControlNetPreprocessErrorCode,
    message: string,
    /** The module id as the caller spelled it, when the error is about a module. */
    readonly module?: string,
  ) {
    super(message);
  }
}

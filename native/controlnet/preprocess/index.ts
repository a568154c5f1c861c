// Public surface of the ControlNet preprocessing (what the engine, CLI and server import).
export {
  controlHintFromDetected,
  detectControlMap,
  pixelPerfectResolution,
  preprocessControlImage,
  type ControlHint,
  type PreprocessOptions,
  type PreprocessResult,
  type ResizeModeName,
} from './preprocess-control-image.js';
export { applyResizeMode, highQualityResize, type DetectedMap } from './detectmap.js';
export { ControlNetPreprocessError, type ControlNetPreprocessErrorCode } from './preprocess-error.js';

// Errors of the detector layer (YOLO files, detection): a stable code for the wire, a message for
// people. `unsafe_model_file` means the pickle names something outside the allow-list and nothing of
// the file was used; `unsupported_detector` names the model family we do not run.

export type DetectorErrorCode =
  | 'unsafe_model_file'
  | 'unsupported_detector'
  | 'bad_model_file'
  | 'detector_not_found'
  | 'bad_input';

export class DetectorError extends Error {
  override readonly name = 'DetectorError';
  constructor(
    readonly code: DetectorErrorCode,
    message: string,
  ) {
    super(message);
  }
}

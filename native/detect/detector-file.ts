// Reads an Ultralytics YOLOv8 detector checkpoint without running any of it: a torch `.pt` through
// the restricted pickle reader with an allow-list of exactly the GLOBALs that ADetailer's YOLOv8
// files use (../shared/fixtures/yolo-tiny/pickle_globals.json: Ultralytics 8.0.x and 8.3.x module
// paths), or a `.safetensors` state dict with the same keys. The result is the state dict
// (lazily read tensors), the architecture (`yaml`), class names, the training image size and the
// BatchNorm epsilon — everything the graph builder needs. Ultralytics classes become inert objects
// whose `__dict__` we walk (`_parameters`, `_buffers`, `_modules`); nothing is imported or called.
import { extname } from 'node:path';
import { openTorchFile, PickleError, isTorchTensor, type PickleValue, type TorchTensor } from '../io/torch-file.js';
import { PickleObject, type PickleGlobalHandler } from '../io/pickle-vm.js';
import { torchGlobals } from '../io/torch-globals.js';
import { SafetensorsError, SafetensorsFile } from '../io/safetensors.js';
import { DetectorError } from './detector-error.js';

/** Every GLOBAL (module, name) the supported files reference, as written in data.pkl. */
export const YOLO_PICKLE_GLOBALS: ReadonlyArray<readonly [string, string]> = [
  ['__builtin__', 'getattr'],
  ['__builtin__', 'set'],
  ['collections', 'OrderedDict'],
  ['torch', 'FloatStorage'],
  ['torch', 'HalfStorage'],
  ['torch', 'LongStorage'],
  ['torch', 'Size'],
  ['torch._utils', '_rebuild_parameter'],
  ['torch._utils', '_rebuild_tensor_v2'],
  ['torch.nn.modules.activation', 'SiLU'],
  ['torch.nn.modules.batchnorm', 'BatchNorm2d'],
  ['torch.nn.modules.container', 'ModuleList'],
  ['torch.nn.modules.container', 'Sequential'],
  ['torch.nn.modules.conv', 'Conv2d'],
  ['torch.nn.modules.conv', 'ConvTranspose2d'],
  ['torch.nn.modules.pooling', 'MaxPool2d'],
  ['torch.nn.modules.upsampling', 'Upsample'],
  ['ultralytics.nn.modules', 'Bottleneck'],
  ['ultralytics.nn.modules', 'C2f'],
  ['ultralytics.nn.modules', 'Concat'],
  ['ultralytics.nn.modules', 'Conv'],
  ['ultralytics.nn.modules', 'DFL'],
  ['ultralytics.nn.modules', 'Detect'],
  ['ultralytics.nn.modules', 'Proto'],
  ['ultralytics.nn.modules', 'SPPF'],
  ['ultralytics.nn.modules', 'Segment'],
  ['ultralytics.nn.modules.block', 'Bottleneck'],
  ['ultralytics.nn.modules.block', 'C2f'],
  ['ultralytics.nn.modules.block', 'DFL'],
  ['ultralytics.nn.modules.block', 'Proto'],
  ['ultralytics.nn.modules.block', 'SPPF'],
  ['ultralytics.nn.modules.conv', 'Concat'],
  ['ultralytics.nn.modules.conv', 'Conv'],
  ['ultralytics.nn.modules.head', 'Detect'],
  ['ultralytics.nn.modules.head', 'Segment'],
  ['ultralytics.nn.tasks', 'DetectionModel'],
  ['ultralytics.nn.tasks', 'SegmentationModel'],
  ['ultralytics.yolo.utils', 'IterableSimpleNamespace'],
];

/** Python 2 module names as the pickle reader resolves them. */
const RENAMED: Record<string, string> = { __builtin__: 'builtins' };

/** The pickle allow-list for detector files: exactly YOLO_PICKLE_GLOBALS, classes as inert objects. */
export function detectorPickleGlobals(): Map<string, PickleGlobalHandler> {
  const torch = torchGlobals();
  const out = new Map<string, PickleGlobalHandler>();
  for (const [module, name] of YOLO_PICKLE_GLOBALS) {
    const qualified = `${RENAMED[module] ?? module}.${name}`;
    const known = torch.get(qualified);
    if (known) out.set(qualified, known);
    else if (qualified === 'torch.Size') out.set(qualified, { call: (args) => (Array.isArray(args[0]) ? [...args[0]] : []) });
    // `Segment.detect = Detect.forward` in 8.0.x files: getattr(Detect, "forward"), kept as a marker
    else if (qualified === 'builtins.getattr') out.set(qualified, { call: (args) => new PickleObject('builtins.getattr', args) });
    else out.set(qualified, { call: () => new PickleObject(qualified) });
  }
  return out;
}

/** Classes that mark another model family; a file naming one is refused as `unsupported_detector`. */
const FAMILY_MARKERS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\b(WorldModel|WorldDetect|YOLOEModel|C2fAttn|ImagePoolingAttn|ContrastiveHead|BNContrastiveHead)\b/, 'YOLO-World'],
  [/\b(RTDETR\w*|AIFI|HGStem|HGBlock|RepC3|DeformableTransformerDecoder\w*)\b/, 'RT-DETR'],
  [/\b(RepNCSPELAN4|ADown|SPPELAN|CBLinear|CBFuse|ELAN1|AConv)\b/, 'YOLOv9'],
  [/\b(v10Detect|SCDown|PSA|C2fCIB|RepVGGDW)\b/, 'YOLOv10'],
  [/\b(C3k2|C2PSA|C3k)\b/, 'YOLO11'],
  [/\b(A2C2f|AAttn|ABlock)\b/, 'YOLO12'],
  [/\b(PoseModel|Pose)\b/, 'YOLO pose'],
  [/\b(OBBModel|OBB)\b/, 'YOLO oriented-box (OBB)'],
  [/\b(ClassificationModel|Classify)\b/, 'YOLO classification'],
  [/\b(C3|C2|C1|C3x|C3TR|C3Ghost|SPP|Focus|GhostConv|DWConv|RepConv)\b/, 'YOLOv5/other Ultralytics block'],
];

/** The family a class name belongs to, if it is one we know we do not run. */
export function familyOf(className: string): string | undefined {
  return FAMILY_MARKERS.find(([re]) => re.test(className))?.[1];
}

export type DetectorTask = 'detect' | 'segment';

/** A tensor of the state dict, read as float32 on demand. */
export interface DetectorTensor {
  readonly shape: readonly number[];
  read(): Promise<Float32Array>;
}

/** The architecture dict of Ultralytics (`model.yaml`), as plain JSON values. */
export interface YoloYaml {
  readonly nc?: number;
  readonly scales?: Record<string, number[]>;
  readonly scale?: string;
  readonly depth_multiple?: number;
  readonly width_multiple?: number;
  readonly activation?: string;
  readonly backbone: YamlLayer[];
  readonly head: YamlLayer[];
}

/** `[from, repeats, module, args]` */
export type YamlLayer = [number | number[], number, string, unknown[]];

export interface DetectorCheckpoint {
  readonly path: string;
  readonly format: 'pt' | 'safetensors';
  /** Ultralytics version that wrote a .pt (`"8.0.87"`), when recorded. */
  readonly version?: string;
  readonly yaml: YoloYaml;
  readonly names: ReadonlyMap<number, string>;
  /** `train_args["imgsz"]`: the predict size ADetailer gets; undefined when absent. */
  readonly imgsz?: number | readonly [number, number];
  readonly bnEps: number;
  readonly tensors: ReadonlyMap<string, DetectorTensor>;
  close(): Promise<void>;
}

export const DETECTOR_EXTENSIONS = ['.pt', '.safetensors'] as const;

/**
 * Opens a detector file. Example: `const ck = await openDetectorFile('models/detectors/face_yolov8n.pt');`
 * Errors: `unsafe_model_file` (a GLOBAL outside the allow-list: nothing was used),
 * `unsupported_detector` (another family, named), `bad_model_file` (anything malformed).
 */
export async function openDetectorFile(path: string): Promise<DetectorCheckpoint> {
  const ext = extname(path).toLowerCase();
  if (ext === '.safetensors') return openSafetensors(path);
  if (ext === '.pt' || ext === '.pth') return openPickle(path);
  if (ext === '.onnx' || ext === '.tflite' || ext === '.task') {
    throw new DetectorError('unsupported_detector', `${path}: ${ext} detectors (MediaPipe, exported ONNX) are not supported; use an Ultralytics YOLOv8 .pt or .safetensors file`);
  }
  throw new DetectorError('bad_model_file', `${path}: a detector is a .pt or .safetensors file`);
}

async function openPickle(path: string): Promise<DetectorCheckpoint> {
  let root: PickleValue;
  let close: () => Promise<void>;
  try {
    const f = await openTorchFile(path, { globals: detectorPickleGlobals() });
    root = f.root;
    close = f.close;
  } catch (err) {
    if (err instanceof PickleError && err.code === 'unsafe_pickle') {
      const wanted = /global '([^']+)'/.exec(err.message)?.[1] ?? '';
      const family = wanted.startsWith('ultralytics.') || wanted.startsWith('models.') ? familyOf(wanted.split('.').pop() ?? '') : undefined;
      if (family) throw new DetectorError('unsupported_detector', `${path}: this is a ${family} model (it uses ${wanted}); only YOLOv8 detection and segmentation files are supported`);
      throw new DetectorError('unsafe_model_file', `${path}: refused, nothing was loaded: ${err.message.replace(`${path}: `, '')}`);
    }
    const code = (err as { code?: unknown }).code;
    throw new DetectorError('bad_model_file', `${path}: not a readable YOLO checkpoint (${typeof code === 'string' ? code + ': ' : ''}${(err as Error).message})`);
  }
  try {
    if (!(root instanceof Map)) throw new DetectorError('bad_model_file', `${path}: the checkpoint is not a dict`);
    const ema = root.get('ema');
    const model = ema instanceof PickleObject ? ema : root.get('model');
    if (!(model instanceof PickleObject) || !(model.state instanceof Map)) throw new DetectorError('bad_model_file', `${path}: the checkpoint has no model`);
    const family = familyOf(model.$class.split('.').pop() ?? '');
    if (family) throw new DetectorError('unsupported_detector', `${path}: this is a ${family} model (${model.$class})`);
    const tensors = new Map<string, DetectorTensor>();
    const eps: number[] = [];
    walkModule(model, '', tensors, eps);
    const yaml = toYaml(plain(model.state.get('yaml')), path);
    const names = toNames(plain(model.state.get('names')), yaml.nc);
    const trainArgs = plain(root.get('train_args'));
    const imgsz = toImgsz(isRecord(trainArgs) ? trainArgs.imgsz : undefined);
    const version = root.get('version');
    return { path, format: 'pt', version: typeof version === 'string' ? version : undefined, yaml, names, imgsz, bnEps: eps[0] ?? 1e-3, tensors, close };
  } catch (err) {
    await close();
    throw err;
  }
}

async function openSafetensors(path: string): Promise<DetectorCheckpoint> {
  let file: SafetensorsFile;
  try {
    file = await SafetensorsFile.open(path);
  } catch (err) {
    throw new DetectorError('bad_model_file', `${path}: ${(err as SafetensorsError).message}`);
  }
  try {
    const meta = file.metadata;
    // Our fixture writes one JSON entry; other converters write `yaml` / `names` / `imgsz` entries.
    const configText = meta['yolo_tiny.config'] ?? meta['yolo.config'] ?? meta['config'];
    const config: Record<string, unknown> = configText ? parseJson(configText, path) : {};
    const yamlValue = config.yaml ?? (meta.yaml ? parseJson(meta.yaml, path) : undefined);
    if (yamlValue === undefined) {
      throw new DetectorError('bad_model_file', `${path}: the safetensors file carries no architecture (metadata "yaml" with Ultralytics' model dict)`);
    }
    const yaml = toYaml(yamlValue, path);
    const names = toNames(config.names ?? (meta.names ? parseJson(meta.names, path) : undefined), yaml.nc);
    const imgsz = toImgsz(config.imgsz ?? (meta.imgsz ? Number(meta.imgsz) : undefined));
    const tensors = new Map<string, DetectorTensor>();
    for (const key of file.keys()) {
      const info = file.info(key)!;
      tensors.set(key, { shape: info.shape, read: () => file.readFloat32(key) });
    }
    const bnEps = typeof config.bn_eps === 'number' ? config.bn_eps : 1e-3;
    return { path, format: 'safetensors', yaml, names, imgsz, bnEps, tensors, close: () => file.close() };
  } catch (err) {
    await file.close();
    throw err;
  }
}

function parseJson(text: string, path: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    if (isRecord(v)) return v;
  } catch {
    // fall through
  }
  throw new DetectorError('bad_model_file', `${path}: metadata is not a JSON object`);
}

/** Collects `_parameters` and `_buffers` of an nn.Module tree under their state-dict names. */
function walkModule(obj: PickleObject, prefix: string, out: Map<string, DetectorTensor>, eps: number[]): void {
  const state = obj.state;
  if (!(state instanceof Map)) return;
  if (obj.$class.endsWith('BatchNorm2d')) {
    const e = state.get('eps');
    if (typeof e === 'number') eps.push(e);
  }
  for (const field of ['_parameters', '_buffers']) {
    const dict = state.get(field);
    if (!(dict instanceof Map)) continue;
    for (const [k, v] of dict) {
      if (typeof k === 'string' && isTorchTensor(v)) out.set(prefix + k, tensorOf(v));
    }
  }
  const modules = state.get('_modules');
  if (!(modules instanceof Map)) return;
  for (const [k, v] of modules) {
    if (typeof k !== 'string' || !(v instanceof PickleObject)) continue;
    walkModule(v, `${prefix}${k}.`, out, eps);
  }
}

function tensorOf(t: TorchTensor): DetectorTensor {
  return { shape: t.shape, read: () => t.toFloat32() };
}

type Plain = null | boolean | number | string | Plain[] | { [k: string]: Plain };

/** A pickled value as JSON-like data (dicts with string keys; objects become their state). */
function plain(v: PickleValue | undefined): Plain {
  if (v === undefined || v === null) return null;
  if (typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Map) {
    const o: { [k: string]: Plain } = {};
    for (const [k, x] of v) o[String(k)] = plain(x);
    return o;
  }
  if (v instanceof PickleObject) return plain(v.state);
  return null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toYaml(v: unknown, path: string): YoloYaml {
  if (!isRecord(v) || !Array.isArray(v.backbone) || !Array.isArray(v.head)) {
    throw new DetectorError('bad_model_file', `${path}: the model has no architecture (yaml with backbone and head)`);
  }
  return v as unknown as YoloYaml;
}

function toNames(v: unknown, nc: number | undefined): Map<number, string> {
  const out = new Map<number, string>();
  if (Array.isArray(v)) v.forEach((n, i) => out.set(i, String(n)));
  else if (isRecord(v)) for (const [k, n] of Object.entries(v)) if (Number.isInteger(Number(k))) out.set(Number(k), String(n));
  for (let i = 0; i < (nc ?? 0); i++) if (!out.has(i)) out.set(i, `class${i}`);
  return out;
}

function toImgsz(v: unknown): number | readonly [number, number] | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && x > 0)) return [v[0] as number, v[1] as number];
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'number') return v[0];
  return undefined;
}

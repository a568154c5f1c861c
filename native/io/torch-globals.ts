// The allow-list of Python globals a torch file may name, and what each one does here. It is
// the list real SD checkpoints, VAEs and A1111 textual-inversion embeddings need (compare
// AUTOMATIC1111's modules/safe.py, which accepts a similar set); every other global stops the
// load with `unsafe_pickle` in pickle-vm.ts. Nothing here imports or evaluates anything: each
// handler builds a plain value from its arguments.
import type { DType } from './dtype.js';
import { PickleGlobal, PickleObject, describe, type PickleGlobalHandler, type PickleKey, type PickleValue } from './pickle-vm.js';
import { TorchFileError, isTorchTensor, rebuildTensor } from './torch-tensor.js';

/** A storage class named in a persistent id (`torch.FloatStorage` → F32). */
export interface StorageClassHandler extends PickleGlobalHandler {
  readonly storageDType: DType;
}

/** A `torch.<dtype>` object (an argument of `_rebuild_tensor_v3`). */
interface DTypeHandler extends PickleGlobalHandler {
  readonly dtype: DType;
}

export const STORAGE_CLASSES: Readonly<Record<string, DType>> = {
  'torch.DoubleStorage': 'F64',
  'torch.FloatStorage': 'F32',
  'torch.HalfStorage': 'F16',
  'torch.BFloat16Storage': 'BF16',
  'torch.LongStorage': 'I64',
  'torch.IntStorage': 'I32',
  'torch.ShortStorage': 'I16',
  'torch.CharStorage': 'I8',
  'torch.ByteStorage': 'U8',
  'torch.BoolStorage': 'BOOL',
  // torch 2 may name the untyped storage; its numel then counts bytes
  'torch.UntypedStorage': 'U8',
};

const DTYPE_OBJECTS: Readonly<Record<string, DType>> = {
  'torch.float64': 'F64',
  'torch.float32': 'F32',
  'torch.float16': 'F16',
  'torch.bfloat16': 'BF16',
  'torch.int64': 'I64',
  'torch.int32': 'I32',
  'torch.int16': 'I16',
  'torch.int8': 'I8',
  'torch.uint8': 'U8',
  'torch.bool': 'BOOL',
};

/**
 * Classes that some SD checkpoints and embeddings pickle beside the weights (training callbacks,
 * numpy scalars such as `global_step`, old ParameterDict embeddings). They become inert
 * `{ $class, state }` objects instead of failing the whole file: `state` is the BUILD state when
 * there is one, else the constructor arguments.
 */
export const PLACEHOLDER_CLASSES: readonly string[] = [
  'pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint',
  'pytorch_lightning.callbacks.model_checkpoint',
  'numpy.core.multiarray.scalar',
  'numpy.core.multiarray._reconstruct',
  'numpy._core.multiarray.scalar',
  'numpy._core.multiarray._reconstruct',
  'numpy.dtype',
  'numpy.ndarray',
  'torch.nn.modules.container.ParameterDict',
];

const TENSOR_TYPES = new Set(['torch.Tensor', 'torch.nn.parameter.Parameter']);

function orderedDict(args: PickleValue[]): PickleValue {
  const out = new Map<PickleKey, PickleValue>();
  if (args.length === 0) return out;
  const src = args[0];
  if (src instanceof Map) return new Map(src);
  if (!Array.isArray(src)) throw new TorchFileError('bad_archive', `OrderedDict(${describe(src)}) is not supported`);
  for (const pair of src) {
    if (!Array.isArray(pair) || pair.length !== 2) throw new TorchFileError('bad_archive', 'OrderedDict items must be (key, value) pairs');
    const k = pair[0];
    if (k !== null && typeof k === 'object') throw new TorchFileError('bad_archive', `OrderedDict key of type ${describe(k)} is not supported`);
    out.set(k, pair[1]);
  }
  return out;
}

function tensorArg(v: PickleValue, fn: string): PickleValue {
  if (!isTorchTensor(v)) throw new TorchFileError('bad_tensor', `${fn} needs a tensor, got ${describe(v)}`);
  return v;
}

function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw new TorchFileError('bad_archive', `_codecs.encode: character U+${c.toString(16)} is not latin-1`);
    out[i] = c;
  }
  return out;
}

// `_codecs.encode(text, 'latin1')` is how protocol 2 pickles carry Python 3 bytes.
function encode(args: PickleValue[]): PickleValue {
  const [text, encoding = 'utf-8'] = args;
  if (typeof text !== 'string' || typeof encoding !== 'string') throw new TorchFileError('bad_archive', '_codecs.encode needs (str, str)');
  const enc = encoding.toLowerCase().replace(/_/g, '-');
  if (enc === 'latin1' || enc === 'latin-1' || enc === 'iso-8859-1') return latin1Bytes(text);
  if (enc === 'utf-8' || enc === 'utf8') return new TextEncoder().encode(text);
  throw new TorchFileError('bad_archive', `_codecs.encode: encoding ${JSON.stringify(encoding)} is not supported`);
}

function bytesFrom(args: PickleValue[], fn: string): Uint8Array {
  if (args.length === 0) return new Uint8Array(0);
  const src = args[0];
  if (src instanceof Uint8Array) return src.slice();
  if (typeof src === 'string') return encode(args) as Uint8Array;
  if (Array.isArray(src) && src.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 255)) return Uint8Array.from(src as number[]);
  throw new TorchFileError('bad_archive', `${fn}(${describe(src)}) is not supported`);
}

function setOf(kind: string): PickleGlobalHandler {
  return {
    call: (args) => {
      const src = args[0] ?? [];
      const items = Array.isArray(src) ? src : src instanceof PickleObject && Array.isArray(src.state) ? src.state : undefined;
      if (!items) throw new TorchFileError('bad_archive', `${kind}(${describe(src)}) is not supported`);
      return new PickleObject(kind, [...items]);
    },
  };
}

const REBUILD_V2 = 'torch._utils._rebuild_tensor_v2';

/** The allow-list for torch.save files, keyed by `module.name`. */
export function torchGlobals(): Map<string, PickleGlobalHandler> {
  const g = new Map<string, PickleGlobalHandler>();
  g.set('collections.OrderedDict', { call: orderedDict });
  g.set('typing.OrderedDict', { call: orderedDict });
  g.set('torch._utils._rebuild_tensor', { call: ([s, o, size, stride]) => rebuildTensor(s, o, size, stride) });
  // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  g.set(REBUILD_V2, { call: ([s, o, size, stride]) => rebuildTensor(s, o, size, stride) });
  // (storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype[, metadata])
  g.set('torch._utils._rebuild_tensor_v3', {
    call: ([s, o, size, stride, , , dtype]) => {
      const h = dtype instanceof PickleGlobal ? (dtype.handler as Partial<DTypeHandler>) : undefined;
      if (!h?.dtype) throw new TorchFileError('bad_tensor', `_rebuild_tensor_v3 needs a torch dtype, got ${describe(dtype)}`);
      return rebuildTensor(s, o, size, stride, h.dtype);
    },
  });
  g.set('torch._utils._rebuild_parameter', { call: ([data]) => tensorArg(data, '_rebuild_parameter') });
  g.set('torch._utils._rebuild_parameter_with_state', { call: ([data]) => tensorArg(data, '_rebuild_parameter_with_state') });
  // tensors with Python attributes: (func, type, args, state); only rebuilds of plain tensors
  g.set('torch._tensor._rebuild_from_type_v2', {
    call: ([func, type, args]) => {
      if (!(func instanceof PickleGlobal) || !func.$class.startsWith('torch._utils._rebuild_') || !func.handler.call) {
        throw new TorchFileError('bad_tensor', `_rebuild_from_type_v2 with ${describe(func)} is not supported`);
      }
      if (!(type instanceof PickleGlobal) || !TENSOR_TYPES.has(type.$class)) {
        throw new TorchFileError('bad_tensor', `_rebuild_from_type_v2 to ${describe(type)} is not supported`);
      }
      if (!Array.isArray(args)) throw new TorchFileError('bad_tensor', '_rebuild_from_type_v2 needs an argument tuple');
      return func.handler.call(args, func);
    },
  });
  for (const t of TENSOR_TYPES) g.set(t, {});
  for (const [name, storageDType] of Object.entries(STORAGE_CLASSES)) {
    const h: StorageClassHandler = { storageDType };
    g.set(name, h);
  }
  for (const [name, dtype] of Object.entries(DTYPE_OBJECTS)) {
    const h: DTypeHandler = { dtype };
    g.set(name, h);
  }
  g.set('_codecs.encode', { call: encode });
  g.set('builtins.bytes', { call: (args) => bytesFrom(args, 'bytes') });
  g.set('builtins.bytearray', { call: (args) => bytesFrom(args, 'bytearray') });
  g.set('builtins.set', setOf('builtins.set'));
  g.set('builtins.frozenset', setOf('builtins.frozenset'));
  for (const name of PLACEHOLDER_CLASSES) g.set(name, { call: (args) => new PickleObject(name, args) });
  return g;
}

/** The storage dtype a global stands for, if it is a storage class. */
export function storageDTypeOf(v: PickleValue): DType | undefined {
  if (!(v instanceof PickleGlobal)) return undefined;
  return (v.handler as Partial<StorageClassHandler>).storageDType;
}

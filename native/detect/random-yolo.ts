// A YOLOv8 detector with random weights at any Ultralytics scale, written as .safetensors with its
// architecture in the metadata: the channel and repeat rules of Ultralytics' parse_model
// (make_divisible(min(c, max_channels) · width, 8), max(round(n · depth), 1)) over yolov8.yaml.
// For benchmarks (full-size face_yolov8n) and tests; real files come from Ultralytics.
import { writeSafetensors, type TensorData } from '../io/safetensors.js';
import type { YamlLayer } from './detector-file.js';

export const YOLOV8_YAML = {
  nc: 80,
  scales: { n: [0.33, 0.25, 1024], s: [0.33, 0.5, 1024], m: [0.67, 0.75, 768], l: [1.0, 1.0, 512], x: [1.0, 1.25, 512] },
  backbone: [
    [-1, 1, 'Conv', [64, 3, 2]], [-1, 1, 'Conv', [128, 3, 2]], [-1, 3, 'C2f', [128, true]], [-1, 1, 'Conv', [256, 3, 2]], [-1, 6, 'C2f', [256, true]],
    [-1, 1, 'Conv', [512, 3, 2]], [-1, 6, 'C2f', [512, true]], [-1, 1, 'Conv', [1024, 3, 2]], [-1, 3, 'C2f', [1024, true]], [-1, 1, 'SPPF', [1024, 5]],
  ] as YamlLayer[],
  head: [
    [-1, 1, 'nn.Upsample', ['None', 2, 'nearest']], [[-1, 6], 1, 'Concat', [1]], [-1, 3, 'C2f', [512]],
    [-1, 1, 'nn.Upsample', ['None', 2, 'nearest']], [[-1, 4], 1, 'Concat', [1]], [-1, 3, 'C2f', [256]],
    [-1, 1, 'Conv', [256, 3, 2]], [[-1, 12], 1, 'Concat', [1]], [-1, 3, 'C2f', [512]],
    [-1, 1, 'Conv', [512, 3, 2]], [[-1, 9], 1, 'Concat', [1]], [-1, 3, 'C2f', [1024]],
    [[15, 18, 21], 1, 'Detect', ['nc']],
  ] as YamlLayer[],
};

const pyRoundHalfEven = (x: number) => {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/** Writes a random YOLOv8 detection model (scale n/s/m/l/x, `nc` classes) to `path`. */
export async function writeRandomYolo(path: string, opts: { scale?: 'n' | 's' | 'm' | 'l' | 'x'; nc?: number; names?: string[]; imgsz?: number; seed?: number } = {}): Promise<void> {
  const scale = opts.scale ?? 'n';
  const nc = opts.nc ?? 1;
  const [depth, width, maxCh] = YOLOV8_YAML.scales[scale];
  let s = opts.seed ?? 1;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const t: Record<string, TensorData> = {};
  const put = (key: string, shape: number[], fill: (i: number) => number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = fill(i);
    t[key] = { dtype: 'F32', shape, data };
  };
  const conv = (key: string, c1: number, c2: number, k: number) => {
    put(`${key}.conv.weight`, [c2, c1, k, k], () => rand() * Math.sqrt(3 / (c1 * k * k)));
    put(`${key}.bn.weight`, [c2], () => 1);
    put(`${key}.bn.bias`, [c2], () => 0);
    put(`${key}.bn.running_mean`, [c2], () => 0);
    put(`${key}.bn.running_var`, [c2], () => 1);
  };
  const div8 = (c: number) => Math.ceil((Math.min(c, maxCh) * width) / 8) * 8;
  const ch: number[] = [];
  const layers = [...YOLOV8_YAML.backbone, ...YOLOV8_YAML.head];
  layers.forEach(([f, n, m, args], i) => {
    const from = (Array.isArray(f) ? f : [f]).map((x) => (x === -1 ? i - 1 : x));
    const c1 = from[0] === -1 || i === 0 ? 3 : ch[from[0]];
    const key = `model.${i}`;
    const reps = n > 1 ? Math.max(pyRoundHalfEven(n * depth), 1) : n;
    if (m === 'Conv') {
      const c2 = div8(args[0] as number);
      conv(key, c1, c2, args[1] as number);
      ch.push(c2);
    } else if (m === 'C2f') {
      const c2 = div8(args[0] as number);
      const c = c2 / 2;
      conv(`${key}.cv1`, c1, 2 * c, 1);
      for (let j = 0; j < reps; j++) {
        conv(`${key}.m.${j}.cv1`, c, c, 3);
        conv(`${key}.m.${j}.cv2`, c, c, 3);
      }
      conv(`${key}.cv2`, (2 + reps) * c, c2, 1);
      ch.push(c2);
    } else if (m === 'SPPF') {
      const c2 = div8(args[0] as number);
      conv(`${key}.cv1`, c1, c1 / 2, 1);
      conv(`${key}.cv2`, (c1 / 2) * 4, c2, 1);
      ch.push(c2);
    } else if (m === 'Concat') ch.push(from.reduce((a, x) => a + ch[x], 0));
    else if (m === 'Detect') {
      const chs = from.map((x) => ch[x]);
      const c2 = Math.max(16, Math.floor(chs[0] / 4), 64), c3 = Math.max(chs[0], Math.min(nc, 100));
      chs.forEach((cin, l) => {
        conv(`${key}.cv2.${l}.0`, cin, c2, 3);
        conv(`${key}.cv2.${l}.1`, c2, c2, 3);
        put(`${key}.cv2.${l}.2.weight`, [64, c2, 1, 1], () => rand() * 0.1);
        put(`${key}.cv2.${l}.2.bias`, [64], () => 1);
        conv(`${key}.cv3.${l}.0`, cin, c3, 3);
        conv(`${key}.cv3.${l}.1`, c3, c3, 3);
        put(`${key}.cv3.${l}.2.weight`, [nc, c3, 1, 1], () => rand() * 0.1);
        put(`${key}.cv3.${l}.2.bias`, [nc], () => -4);
      });
      put(`${key}.dfl.conv.weight`, [1, 16, 1, 1], (k) => k);
      ch.push(0);
    } else ch.push(c1); // Upsample
  });
  const yaml = { ...YOLOV8_YAML, nc, scale };
  const names = Object.fromEntries((opts.names ?? Array.from({ length: nc }, (_, i) => `class${i}`)).map((n, i) => [String(i), n]));
  await writeSafetensors(path, t, { yaml: JSON.stringify(yaml), names: JSON.stringify(names), imgsz: String(opts.imgsz ?? 640) });
}

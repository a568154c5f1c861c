// Benchmark of ADetailer's detection step at full size: a face_yolov8n-architecture detector
// (Ultralytics scale n, one class, random weights) at imgsz 640 on a 1024×1024 image — load,
// first call (graph + session) and warm calls (letterbox, network, NMS, masks). Prints a table;
// asserts nothing.
//
// Usage: npm run bench:detect -- [--scale n|s] [--size N] [--runs N]
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Detector } from '../native/detect/detector.js';
import { writeRandomYolo } from '../native/detect/random-yolo.js';
import { toPrediction, predPreprocessing, DEFAULT_MASK_OPTIONS } from '../native/adetailer/masks.js';
import { createEngineRuntime } from '../native/runtime/ort-backend.js';
import { parseFlags, runMain } from './cli.js';
import { reexecWithHugePages } from '../native/runtime/huge-pages.js';

const HELP = `bench-detect: time YOLOv8 detection as ADetailer runs it

  --scale n|s    Ultralytics scale (default n = face_yolov8n)
  --size N       square test image side (default 1024)
  --runs N       warm runs (default 5)
  --help         show this text`;

reexecWithHugePages();
runMain(async () => {
  const flags = parseFlags({ scale: { type: 'string', default: 'n' }, size: { type: 'string', default: '1024' }, runs: { type: 'string', default: '5' } }, HELP);
  if (!flags) return 0;
  const dir = mkdtempSync(join(tmpdir(), 'easel-bench-detect-'));
  try {
    const file = join(dir, `face_yolov8${flags.scale}.safetensors`);
    await writeRandomYolo(file, { scale: flags.scale as 'n' | 's', nc: 1, names: ['face'] });
    const size = Number(flags.size);
    const data = new Uint8Array(size * size * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    const image = { width: size, height: size, channels: 3 as const, data };
    const runtime = await createEngineRuntime({ device: 'cpu' });
    let t = performance.now();
    const det = await Detector.load(file, runtime);
    const loadMs = performance.now() - t;
    t = performance.now();
    await det.detect(image, { conf: 0.3 });
    const firstMs = performance.now() - t;
    const warm: number[] = [];
    let found = 0;
    for (let i = 0; i < Number(flags.runs); i++) {
      t = performance.now();
      const r = await det.detect(image, { conf: 0.3 });
      predPreprocessing(toPrediction(r), DEFAULT_MASK_OPTIONS);
      warm.push(performance.now() - t);
      found = r.detections.length;
    }
    warm.sort((a, b) => a - b);
    await det.dispose();
    console.log(`CPU: ${cpus()[0]?.model ?? '?'} × ${cpus().length}, load average ${loadavg()[0].toFixed(2)}`);
    console.log(`| step | ms |\n| --- | ---: |`);
    console.log(`| load (read + fuse ${flags.scale}) | ${loadMs.toFixed(0)} |`);
    console.log(`| first detect (graph + session + run) | ${firstMs.toFixed(0)} |`);
    console.log(`| warm detect, median of ${warm.length} (letterbox ${size}²→640, network, NMS, masks) | ${warm[Math.floor(warm.length / 2)].toFixed(0)} |`);
    console.log(`| warm detect, min | ${warm[0].toFixed(0)} |`);
    console.log(`(detections on the random image: ${found})`);
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

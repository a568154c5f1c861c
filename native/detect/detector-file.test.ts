// The detector file reader: the allow-list is exactly the fixture's, a file with one extra GLOBAL
// is refused before anything is used, another model family is named, and the 2023 .pt, the
// 8.3.86 .pt and the .safetensors give the same state dict, architecture and settings.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ZipArchive } from '../io/zip-reader.js';
import { writeZip } from '../io/testing/zip-writer.js';
import { fixturePath } from '../testing/fixtures.js';
import { DetectorError } from './detector-error.js';
import { openDetectorFile, YOLO_PICKLE_GLOBALS } from './detector-file.js';
import { parseArchitecture } from './yolo-graph.js';

const dir = fixturePath('yolo-tiny');
const tmp = mkdtempSync(join(tmpdir(), 'easel-detfile-'));

/** A copy of a torch zip whose data.pkl first pushes and pops one more GLOBAL. */
async function withExtraGlobal(src: string, module: string, name: string): Promise<string> {
  const zip = await ZipArchive.open(src);
  const entries = [];
  for (const e of zip.entries()) {
    let data = await zip.readEntry(e.name, 64 << 20);
    if (e.name.endsWith('/data.pkl')) {
      const extra = new TextEncoder().encode(`c${module}\n${name}\n0`); // GLOBAL, POP
      data = new Uint8Array([...data.subarray(0, 2), ...extra, ...data.subarray(2)]); // after PROTO 2
    }
    entries.push({ name: e.name, data, align: 64 });
  }
  await zip.close();
  const out = join(tmp, `${module}.${name}.pt`);
  await writeZip(out, entries);
  return out;
}

async function refusal(path: string): Promise<DetectorError> {
  const err = await openDetectorFile(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DetectorError);
  return err as DetectorError;
}

describe('detector files', () => {
  it('allows exactly the GLOBALs of pickle_globals.json', () => {
    const fixture = (JSON.parse(readFileSync(join(dir, 'pickle_globals.json'), 'utf8')) as { allow_list: [string, string][] }).allow_list;
    expect(YOLO_PICKLE_GLOBALS.map(([m, n]) => `${m}.${n}`).sort()).toEqual(fixture.map(([m, n]) => `${m}.${n}`).sort());
  });

  it('refuses a file with one extra GLOBAL as unsafe_model_file', async () => {
    const err = await refusal(await withExtraGlobal(join(dir, 'face_tiny.pt'), 'os', 'system'));
    expect(err.code).toBe('unsafe_model_file');
    expect(err.message).toContain('os.system');
    // the untouched file loads
    const ok = await openDetectorFile(join(dir, 'face_tiny.pt'));
    await ok.close();
  });

  it('names another family as unsupported_detector', async () => {
    const err = await refusal(await withExtraGlobal(join(dir, 'face_tiny_u8386.pt'), 'ultralytics.nn.modules.head', 'WorldDetect'));
    expect(err.code).toBe('unsupported_detector');
    expect(err.message).toContain('YOLO-World');
    expect((await refusal(join(tmp, 'mediapipe_face_full.tflite'))).code).toBe('unsupported_detector');
  });

  it('reads the same model from the 2023 .pt, the 8.3.86 .pt and the .safetensors', async () => {
    for (const [a, b, c, task, name] of [
      ['face_tiny.pt', 'face_tiny_u8386.pt', 'face_tiny.safetensors', 'detect', 'face'],
      ['person_tiny-seg.pt', 'person_tiny-seg_u8386.pt', 'person_tiny-seg.safetensors', 'segment', 'person'],
    ]) {
      const files = await Promise.all([a, b, c].map((f) => openDetectorFile(join(dir, f))));
      try {
        const keys = files.map((f) => [...f.tensors.keys()].sort());
        expect(keys[1]).toEqual(keys[0]);
        expect(keys[2]).toEqual(keys[0]);
        for (const f of files) {
          expect(f.imgsz).toBe(96);
          expect(f.bnEps).toBeCloseTo(1e-3, 9);
          expect(f.names.get(0)).toBe(name);
          expect(parseArchitecture(f).task).toBe(task);
        }
        expect(files[0].version).toBe('8.0.87');
        expect(files[1].version).toBe('8.3.86');
        for (const key of ['model.0.conv.weight', 'model.22.dfl.conv.weight', 'model.22.cv3.2.2.bias']) {
          const [x, y, z] = await Promise.all(files.map((f) => f.tensors.get(key)!.read()));
          expect(y).toEqual(x);
          expect(z).toEqual(x);
        }
        const arch = parseArchitecture(files[0]);
        expect(arch.strides).toEqual([8, 16, 32]);
        expect(arch.regMax).toBe(16);
        expect(arch.nc).toBe(1);
      } finally {
        await Promise.all(files.map((f) => f.close()));
      }
    }
  });
});

describe('a full-size YOLOv8n architecture (random weights)', () => {
  it('reads a .safetensors with plain yaml/names/imgsz metadata and runs detection', async () => {
    const { writeRandomYolo } = await import('./random-yolo.js');
    const { Detector } = await import('./detector.js');
    const { createEngineRuntime } = await import('../runtime/ort-backend.js');
    const path = join(tmp, 'face_yolov8n.safetensors');
    await writeRandomYolo(path, { scale: 'n', nc: 1, names: ['face'] });
    const ck = await openDetectorFile(path);
    let params = 0;
    for (const [k, t] of ck.tensors) if (!/running_|dfl\./.test(k)) params += t.shape.reduce((a, b) => a * b, 1);
    expect(params).toBe(3_011_027); // Ultralytics' yolov8n summary at nc=1: 3,011,043 with the 16 DFL weights
    expect(ck.imgsz).toBe(640);
    await ck.close();
    const det = await Detector.load(path, await createEngineRuntime({ device: 'cpu' }));
    try {
      const data = new Uint8Array(100 * 80 * 3).map((_, i) => (i * 37) % 256);
      const r = await det.detect({ width: 100, height: 80, channels: 3, data }, { imgsz: 64 });
      expect(r.inputHw).toEqual([64, 64]);
      expect(det.arch.strides).toEqual([8, 16, 32]);
      expect(det.names.get(0)).toBe('face');
    } finally {
      await det.dispose();
    }
  });
});

// One process of the load-cache race test: loads the tiny UNet through the cache at argv[2] with a
// weight source that stalls on its first read (so two processes overlap while one builds), runs
// it once and prints { outcome, out } as JSON.
import { createHash } from 'node:crypto';
import { openCheckpoint } from '../../models/checkpoint.js';
import { sd1TinyPath } from '../../testing/fixtures.js';
import { loadDiffusionModel } from '../diffusion-model.js';
import { LoadCache } from '../load-cache.js';
import { createEngineRuntime } from '../ort-backend.js';

const [dir, stallMs] = [process.argv[2], Number(process.argv[3] ?? '1500')];
const path = sd1TinyPath('model.safetensors');
const ckpt = await openCheckpoint(path);
let stalled = false;
const slow = Object.assign(Object.create(ckpt) as typeof ckpt, {
  readFloat32: async (key: string) => {
    if (!stalled) {
      stalled = true;
      await new Promise((r) => setTimeout(r, stallMs));
    }
    return ckpt.readFloat32(key);
  },
  shape: (key: string) => ckpt.shape(key),
});
const cache = new LoadCache({ dir, onWarning: (m) => console.error(m) });
const runtime = await createEngineRuntime({ device: 'cpu' });
const model = await loadDiffusionModel(slow, { runtime, loadCache: { cache, checkpoint: await cache.checkpointSha256(path) }, unetContextKV: false });
const x = new Float32Array(4 * 64).map((_, i) => Math.sin(i));
const ctx = new Float32Array(77 * 32).map((_, i) => Math.cos(i) * 0.1);
const out = await model.unet.eps(x, new Float32Array([500]), ctx, { batch: 1, h: 8, w: 8, tokens: 77 });
const outcome = Object.entries(model.cacheOutcomes().unet).find(([, n]) => n > 0)?.[0];
const digest = createHash('sha256').update(new Uint8Array(out.buffer, out.byteOffset, out.byteLength)).digest('hex');
console.log(JSON.stringify({ outcome, digest, waited: cache.stats.waited }));
await model.dispose();
await ckpt.close();

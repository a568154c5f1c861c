// LoRA `up @ down` products on ONNX Runtime. The plain JS loop manages ~0.2–1 GMAC/s; a full-size
// SD1.5 LoRA of rank 32 over the attention layers is ~11 GMAC (rank 128: ~45), seconds to a
// minute per new set, while ORT's GEMM (MLAS, all cores, or the GPU) does it in well under a
// second. One tiny MatMul session per distinct [m, k] × [k, n] shape (SD1.5 has a few dozen),
// released when the merge is done.
import { GraphBuilder } from '../graph/builder.js';
import type { EngineRuntime, EngineSession } from '../runtime/ort-backend.js';
import { matmul2d, type Tensor } from './lora-math.js';

export type MatmulFn = (a: Tensor, b: Tensor) => Promise<Tensor>;

/** Below this many multiply-adds the JS loop is quicker than making a session. */
const MIN_ORT_MACS = 4_000_000;

/**
 * A matmul that runs large products on `runtime` (float32) and small ones in JS. Call `release()`
 * once the merge is over to drop the sessions.
 */
export function ortMatmul(runtime: EngineRuntime): MatmulFn & { release(): Promise<void> } {
  const sessions = new Map<string, Promise<EngineSession>>();
  const fn = async (a: Tensor, b: Tensor): Promise<Tensor> => {
    const m = a.shape[0], k = a.data.length / m, n = b.data.length / b.shape[0];
    if (m * k * n < MIN_ORT_MACS || b.shape[0] !== k) return matmul2d(a, b);
    const key = `${m}x${k}x${n}`;
    let s = sessions.get(key);
    if (!s) {
      const g = new GraphBuilder({ name: `lora-matmul-${key}`, precision: 'fp32' });
      const x = g.input('a', 'float32', [m, k]);
      const y = g.input('b', 'float32', [k, n]);
      g.output(g.op('MatMul', [x, y]), 'c'); // [m, n]
      s = runtime.createSession(g.build(), []);
      sessions.set(key, s);
    }
    const out = await (await s).run({
      a: { dtype: 'float32', data: a.data, dims: [m, k] },
      b: { dtype: 'float32', data: b.data, dims: [k, n] },
    });
    return { shape: [m, n], data: out.c };
  };
  return Object.assign(fn, {
    async release() {
      const all = [...sessions.values()];
      sessions.clear();
      await Promise.all(all.map(async (s) => (await s.catch(() => undefined))?.dispose()));
    },
  });
}

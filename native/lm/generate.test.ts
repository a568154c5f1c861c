// Greedy generate() and every logits processor against transformers 4.30 (fixture README §6, §7),
// plus the seeded sampler's determinism.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../io/safetensors.js';
import { Mt19937 } from '../sampling/rng-torch-cpu.js';
import { createEngineRuntime } from '../runtime/ort-backend.js';
import { fixturePath } from '../testing/fixtures.js';
import { sampleId, uniform53 } from './generate.js';
import { bannedNgramTokens, buildProcessors, buildWarpers, finalDistribution, kthLargest } from './logits-processors.js';
import { PromptExpander } from './prompt-expander.js';

const DIR = fixturePath('gpt2-tiny');
const V = 50257;

interface GreedyCase {
  prompt: string;
  prompt_ids: number[];
  input_ids: number[];
  results: Record<string, { new_ids: number[]; new_text: string; stopped_at_eos: boolean }>;
  pipeline_generated_text: string;
  magicprompt_cleaned: string;
}
const greedy = JSON.parse(readFileSync(fixturePath('gpt2-tiny', 'greedy.json'), 'utf8')) as {
  variants: Record<string, { repetition_penalty?: number; no_repeat_ngram_size?: number }>;
  cases: GreedyCase[];
};

interface Stage {
  processor: string;
  changed_ids?: number[];
  after?: number[];
  banned_ids?: number[];
  kept_ids_by_score?: number[];
  kept_values?: number[];
}
interface ProcessorCase {
  vector: 'v1' | 'v2';
  config: string;
  input_ids: number[];
  processors_in_order: string[];
  generation_config_used: { temperature: number; top_k: number; top_p: number; repetition_penalty: number; no_repeat_ngram_size: number; eos_token_id: number };
  stages: Stage[];
  final_probs: { ids: number[]; probs: number[] };
}
const processors = JSON.parse(readFileSync(fixturePath('gpt2-tiny', 'processors.json'), 'utf8')) as { cases: ProcessorCase[] };

let ex: PromptExpander;
beforeAll(async () => {
  ex = await PromptExpander.load(DIR, { runtime: await createEngineRuntime({ device: 'cpu', intraOpThreads: 1 }), tokenizerDir: fixturePath('gpt2-tiny', 'tokenizer') });
});
afterAll(async () => {
  await ex?.dispose();
});

describe('greedy generate()', () => {
  const rows = greedy.cases.flatMap((c, i) => Object.keys(greedy.variants).map((v) => [i, v, c] as const));
  it.each(rows)('case %i, %s: ids and texts exactly', async (_i, variant, c) => {
    const v = greedy.variants[variant];
    const r = await ex.expand({
      prompt: c.prompt,
      greedy: true,
      maxNewTokens: 30,
      ...(v.repetition_penalty !== undefined ? { repetitionPenalty: v.repetition_penalty } : {}),
      ...(v.no_repeat_ngram_size !== undefined ? { noRepeatNgramSize: v.no_repeat_ngram_size } : {}),
    });
    const s = r.sequences[0];
    expect(s.promptIds).toEqual(c.prompt_ids);
    expect(s.inputIds).toEqual(c.input_ids);
    expect(s.newIds).toEqual(c.results[variant].new_ids);
    expect(s.newText).toBe(c.results[variant].new_text);
    expect(s.stoppedAtEos).toBe(c.results[variant].stopped_at_eos);
    if (variant === 'plain') {
      expect(s.generatedText).toBe(c.pipeline_generated_text);
      expect(r.prompts).toEqual([c.magicprompt_cleaned]);
    }
  });
});

describe('logits processors and warpers', () => {
  let vectors: Record<'v1' | 'v2', Float32Array>;
  beforeAll(async () => {
    const fwd = await SafetensorsFile.open(fixturePath('gpt2-tiny', 'forward.safetensors'));
    const kv = await SafetensorsFile.open(fixturePath('gpt2-tiny', 'kv_cache.safetensors'));
    vectors = { v1: (await fwd.readFloat32('p0.logits_last3')).slice(2 * V), v2: await kv.readFloat32('full.logits_last') };
    await fwd.close();
    await kv.close();
  });

  it.each(processors.cases.map((c) => [c.vector, c.config, c] as const))('%s %s: every stage and the final distribution', (_v, _c, c) => {
    const g = c.generation_config_used;
    const stages = [
      ...buildProcessors({ repetitionPenalty: g.repetition_penalty, noRepeatNgramSize: g.no_repeat_ngram_size, eosTokenId: g.eos_token_id }),
      ...buildWarpers({ temperature: g.temperature, topK: g.top_k, topP: g.top_p }),
    ];
    expect(stages.map((s) => s.name)).toEqual(c.processors_in_order);
    const scores = vectors[c.vector].slice();
    stages.forEach((stage, i) => {
      const before = scores.slice();
      stage.apply(c.input_ids, scores);
      const ref = c.stages[i];
      if (ref.changed_ids) {
        ref.changed_ids.forEach((id, j) => expect(scores[id]).toBe(ref.after![j]));
        const changed = new Set(ref.changed_ids);
        const others = [...scores.keys()].filter((k) => !changed.has(k) && !Object.is(scores[k], before[k]));
        expect(others).toEqual([]);
      }
      if (ref.banned_ids) {
        const banned = [...scores.keys()].filter((k) => scores[k] === -Infinity && before[k] !== -Infinity);
        expect(banned).toEqual([...ref.banned_ids].sort((a, b) => a - b));
      }
      if (ref.processor === 'TemperatureLogitsWarper') {
        const t = Math.fround(g.temperature);
        expect([...scores.keys()].filter((k) => !Object.is(scores[k], Math.fround(before[k] / t)))).toEqual([]);
      }
      if (ref.kept_ids_by_score) {
        const kept = [...scores.keys()].filter((k) => scores[k] !== -Infinity).sort((a, b) => scores[b] - scores[a]);
        expect(kept).toEqual(ref.kept_ids_by_score);
        if (ref.kept_values) expect(kept.map((k) => scores[k])).toEqual(ref.kept_values);
      }
    });
    const fin = finalDistribution(scores);
    expect(fin.ids).toEqual(c.final_probs.ids);
    fin.probs.forEach((p, j) => expect(Math.abs(p - c.final_probs.probs[j])).toBeLessThan(1e-6));
  });

  it('finds n-gram bans and the k-th largest value', () => {
    expect(bannedNgramTokens([1, 2, 3, 1, 2], 3)).toEqual([3]);
    expect(bannedNgramTokens([1, 2, 3, 1, 2, 4, 1, 2], 3)).toEqual([3, 4]);
    expect(bannedNgramTokens([1], 3)).toEqual([]);
    expect(kthLargest(Float32Array.from([5, 1, 4, 4, 2]), 3)).toBe(4);
  });
});

describe('seeded sampling', () => {
  it('draws from the distribution with MT19937 (same seed, same ids)', () => {
    const scores = Float32Array.from({ length: 8 }, (_, i) => i / 2);
    const draw = (seed: number) => {
      const mt = new Mt19937(seed);
      return Array.from({ length: 200 }, () => sampleId(scores, mt));
    };
    const a = draw(7);
    expect(draw(7)).toEqual(a);
    expect(draw(8)).not.toEqual(a);
    // the most likely id (7, p ≈ 0.35) is drawn most often
    const counts = new Array<number>(8).fill(0);
    for (const id of a) counts[id]++;
    expect(counts.indexOf(Math.max(...counts))).toBe(7);
    const u = uniform53(new Mt19937(1));
    expect(u).toBeGreaterThanOrEqual(0);
    expect(u).toBeLessThan(1);
  });

  it('gives the same text for the same seed and differs across seeds and sequences', async () => {
    const req = { prompt: 'a castle', n: 2, seed: 1234, maxNewTokens: 12 };
    const a = await ex.expand(req);
    const b = await ex.expand(req);
    expect(b.prompts).toEqual(a.prompts);
    expect(a.sequences[0].newIds).not.toEqual(a.sequences[1].newIds);
    const c = await ex.expand({ ...req, seed: 99 });
    expect(c.sequences[0].newIds).not.toEqual(a.sequences[0].newIds);
    expect(a.settings).toMatchObject({ doSample: true, temperature: 0.7, topK: 50, maxNewTokens: 12 });
  });

  it('generates a blocked result again (dynamicprompts blocklist), with another seed', async () => {
    const base = await ex.expand({ prompt: 'a castle', seed: 3, maxNewTokens: 4 });
    const word = base.sequences[0].generatedText.slice('a castle'.length).trim().split(/\s+/)[0];
    const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const r = await ex.expand({ prompt: 'a castle', seed: 3, maxNewTokens: 4, blocklist: escaped });
    expect(r.sequences[0].seed).not.toBe(3);
    expect(new RegExp(escaped, 'iu').test(r.prompts[0])).toBe(false);
  });

  it('defaults to dynamicprompts: max_length 100 counting the prompt, temperature 0.7', async () => {
    const r = await ex.expand({ prompt: 'a cat sitting on a windowsill', seed: 5 });
    expect(r.sequences[0].inputIds.length + r.sequences[0].newIds.length).toBe(100);
  });

  it('streams partial text, refuses bad settings and stops on abort', async () => {
    const partial: string[] = [];
    const r = await ex.expand({ prompt: 'a dog', maxNewTokens: 5, greedy: true }, { onPartial: (_i, t) => partial.push(t) });
    expect(partial).toHaveLength(5);
    expect(partial[4]).toBe(r.sequences[0].generatedText);
    await expect(ex.expand({ prompt: 'x', temperature: 0 })).rejects.toMatchObject({ code: 'lm_bad_params' });
    await expect(ex.expand({ prompt: 'x', n: 2, greedy: true })).rejects.toMatchObject({ code: 'lm_bad_params' });
    const ac = new AbortController();
    const p = ex.expand({ prompt: 'a dog', maxNewTokens: 50 }, { signal: ac.signal, onPartial: () => ac.abort() });
    await expect(p).rejects.toMatchObject({ code: 'lm_cancelled' });
    await expect(ex.expand({ prompt: 'cat '.repeat(300), maxNewTokens: 5 })).rejects.toMatchObject({ code: 'lm_prompt_too_long' });
  });
});

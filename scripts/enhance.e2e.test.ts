// The acceptance command, exactly as the check runs it (`npm run -s enhance -- ...`, one process per
// case), on gpt2-tiny greedy.json cases: the empty prompt (plain) and a prompt with the repetition
// penalty; plus a bad folder (non-zero exit, one line on stderr). The in-process tests cover every case.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../native/testing/fixtures.js';

interface GreedyCase {
  prompt: string;
  prompt_ids: number[];
  input_ids: number[];
  results: Record<string, { new_ids: number[]; new_text: string }>;
  pipeline_generated_text: string;
  magicprompt_cleaned: string;
}
const greedy = JSON.parse(readFileSync(fixturePath('gpt2-tiny', 'greedy.json'), 'utf8')) as { cases: GreedyCase[] };
const F = fixturePath('gpt2-tiny');
const out = mkdtempSync(join(tmpdir(), 'easel-enhance-cli-'));

function run(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('npm', ['run', '-s', 'enhance', '--', ...args], { cwd: join(import.meta.dirname, '..') }, (err, _stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

describe('npm run -s enhance (fixture README §10)', () => {
  it.each([
    [3, 'plain', []],
    [0, 'repetition_penalty_1.2', ['--repetition-penalty', '1.2']],
  ] as const)('case %i %s', async (i, variant, extra) => {
    const c = greedy.cases[i];
    const json = join(out, `${i}-${variant}.json`);
    const r = await run(['--model', F, '--tokenizer', join(F, 'tokenizer'), '--prompt', c.prompt, '--max-new-tokens', '30', '--greedy', ...extra, '--json', json]);
    expect(r.code, r.stderr).toBe(0);
    const o = JSON.parse(readFileSync(json, 'utf8')) as Record<string, unknown>;
    expect(o.prompt_ids).toEqual(c.prompt_ids);
    expect(o.input_ids).toEqual(c.input_ids);
    expect(o.new_ids).toEqual(c.results[variant].new_ids);
    expect(o.new_text).toBe(c.results[variant].new_text);
    if (variant === 'plain') {
      expect(o.generated_text).toBe(c.pipeline_generated_text);
      expect(o.prompts).toEqual([c.magicprompt_cleaned]);
    }
  }, 120_000);

  it('exits non-zero with a one-line reason', async () => {
    const r = await run(['--model', join(out, 'missing'), '--prompt', 'x', '--max-new-tokens', '3', '--greedy', '--json', join(out, 'x.json')]);
    expect(r.code).not.toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.trim() && !l.startsWith('npm warn'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^enhance: /);
  }, 120_000);
});

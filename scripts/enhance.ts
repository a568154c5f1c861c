// npm run -s enhance -- --model DIR [--tokenizer DIR] --prompt TEXT --max-new-tokens N --greedy
//                      [--repetition-penalty P] [--no-repeat-ngram-size K] --json OUT
// Expands one prompt with a GPT-2 folder on the CPU and writes what ran to OUT (fixture
// gpt2-tiny README §10): prompt_ids, input_ids, new_ids, new_text, generated_text, prompts.
// Without --greedy it samples (--seed, --temperature, --top-k, --top-p, --n). Any error: exit 1
// with a one-line reason on stderr.
import { writeFile } from 'node:fs/promises';
import { parseFlags } from './cli.js';
import { PromptExpander, type ExpandRequest } from '../native/lm/prompt-expander.js';
import { createEngineRuntime } from '../native/runtime/ort-backend.js';

const HELP = `Usage: npm run -s enhance -- --model DIR --prompt TEXT --json OUT [options]

  --model DIR                 Hugging Face GPT-2 folder (config.json + model.safetensors or pytorch_model.bin)
  --tokenizer DIR             folder with vocab.json + merges.txt (default: --model)
  --prompt TEXT               the prompt, verbatim (may be empty)
  --max-new-tokens N          at most N new tokens (default: max_length 100 counting the prompt)
  --greedy                    argmax decoding (no temperature / top-k / top-p)
  --repetition-penalty P      RepetitionPenaltyLogitsProcessor
  --no-repeat-ngram-size K    NoRepeatNGramLogitsProcessor
  --seed S, --temperature T, --top-k K, --top-p P, --n N   sampling (defaults: 0, 0.7, 50, 1, 1)
  --threads N                 CPU threads (default: ONNX Runtime's choice)
  --json OUT                  where to write the result`;

const STRING_FLAGS = ['--model', '--tokenizer', '--prompt', '--max-new-tokens', '--repetition-penalty', '--no-repeat-ngram-size', '--seed', '--temperature', '--top-k', '--top-p', '--n', '--threads', '--json'];

/** `--prompt -x` would read as a flag; bind every value to its flag first (`--prompt=-x`). */
function bindValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (STRING_FLAGS.includes(argv[i]) && i + 1 < argv.length) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${v}"`);
  return n;
}

async function main(): Promise<number> {
  const v = parseFlags(
    {
      model: { type: 'string' },
      tokenizer: { type: 'string' },
      prompt: { type: 'string' },
      'max-new-tokens': { type: 'string' },
      greedy: { type: 'boolean', default: false },
      'repetition-penalty': { type: 'string' },
      'no-repeat-ngram-size': { type: 'string' },
      seed: { type: 'string' },
      temperature: { type: 'string' },
      'top-k': { type: 'string' },
      'top-p': { type: 'string' },
      n: { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'string' },
    },
    HELP,
    bindValues(process.argv.slice(2)),
  );
  if (!v) return 0;
  if (!v.model) throw new Error('--model DIR is required');
  if (v.prompt === undefined) throw new Error('--prompt TEXT is required');
  if (!v.json) throw new Error('--json OUT is required');
  const threads = num('threads', v.threads);
  const runtime = await createEngineRuntime({ device: 'cpu', ...(threads ? { intraOpThreads: threads } : {}) });
  const ex = await PromptExpander.load(v.model, { runtime, ...(v.tokenizer ? { tokenizerDir: v.tokenizer } : {}) });
  try {
    const req: ExpandRequest = { prompt: v.prompt, greedy: v.greedy };
    const set = <K extends keyof ExpandRequest>(k: K, value: ExpandRequest[K] | undefined): void => {
      if (value !== undefined) req[k] = value;
    };
    set('maxNewTokens', num('max-new-tokens', v['max-new-tokens']));
    set('repetitionPenalty', num('repetition-penalty', v['repetition-penalty']));
    set('noRepeatNgramSize', num('no-repeat-ngram-size', v['no-repeat-ngram-size']));
    set('seed', num('seed', v.seed));
    set('temperature', num('temperature', v.temperature));
    set('topK', num('top-k', v['top-k']));
    set('topP', num('top-p', v['top-p']));
    set('n', num('n', v.n));
    const r = await ex.expand(req);
    const first = r.sequences[0];
    const out = {
      prompt_ids: first.promptIds,
      input_ids: first.inputIds,
      new_ids: first.newIds,
      new_text: first.newText,
      generated_text: first.generatedText,
      prompts: r.prompts,
      stopped_at_eos: first.stoppedAtEos,
      sequences: r.sequences.map((s) => ({ new_ids: s.newIds, generated_text: s.generatedText, prompt: s.prompt, seed: s.seed })),
      settings: r.settings,
    };
    await writeFile(v.json, JSON.stringify(out, null, 2) + '\n', 'utf8');
    return 0;
  } finally {
    await ex.dispose();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    console.error(`enhance: ${message.replace(/\s*\n\s*/g, ' ')}`);
    process.exit(1);
  },
);

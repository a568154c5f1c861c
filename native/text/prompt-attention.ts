// AUTOMATIC1111's emphasis syntax (`modules/prompt_parser.py: parse_prompt_attention`, v1.10.1):
// `(text)` ×1.1, `[text]` ÷1.1, `(text:w)`, escapes `\( \) \[ \] \\`, unbalanced brackets apply to
// the end of the prompt, stray closers are literal, and standalone `BREAK` splits chunks.
// Weights are float64 products in the same order as Python, so values like 1.2100000000000002
// come out bit-identical.

import { TextError } from './errors.js';
import { PY_SPACE, PY_WORD_END, PY_WORD_START, pyFloat } from './python-compat.js';

/** One run of prompt text and its weight; `['BREAK', -1]` marks a chunk break. */
export type AttentionRun = [text: string, weight: number];

const ROUND_MULTIPLIER = 1.1;
const SQUARE_MULTIPLIER = 1 / 1.1;

// A1111's `re_attention`, alternative by alternative; group 1 is the weight of `:w)`.
const ATTENTION_RE = new RegExp(
  [
    '\\\\\\(',
    '\\\\\\)',
    '\\\\\\[',
    '\\\\\\]',
    '\\\\\\\\',
    '\\\\',
    '\\(',
    '\\[',
    `:[${PY_SPACE}]*([+-]?[.\\d]+)[${PY_SPACE}]*\\)`,
    '\\)',
    '\\]',
    '[^\\\\()\\[\\]:]+',
    ':',
  ].join('|'),
  'gsu',
);

// `\s*\bBREAK\b\s*` with Python's Unicode word boundary.
const BREAK_RE = new RegExp(`[${PY_SPACE}]*${PY_WORD_START}BREAK${PY_WORD_END}[${PY_SPACE}]*`, 'u');

/** True for the marker run that closes a 75-token chunk. */
export function isBreakRun(run: AttentionRun): boolean {
  return run[0] === 'BREAK' && run[1] === -1;
}

/**
 * Splits a prompt into runs of equal weight, as A1111 does before tokenizing.
 *
 * @example parsePromptAttention('a (red:1.3) car') // [['a ', 1], ['red', 1.3], [' car', 1]]
 * @throws TextError `bad_attention_weight` for `(a:1.5.5)` (A1111 raises ValueError there)
 */
export function parsePromptAttention(text: string): AttentionRun[] {
  const res: AttentionRun[] = [];
  const roundBrackets: number[] = [];
  const squareBrackets: number[] = [];

  const multiplyRange = (start: number, multiplier: number): void => {
    for (let p = start; p < res.length; p++) res[p][1] *= multiplier;
  };

  for (const m of text.matchAll(ATTENTION_RE)) {
    const token = m[0];
    const weight = m[1];
    if (token.startsWith('\\')) {
      res.push([token.slice(1), 1.0]);
    } else if (token === '(') {
      roundBrackets.push(res.length);
    } else if (token === '[') {
      squareBrackets.push(res.length);
    } else if (weight !== undefined && roundBrackets.length > 0) {
      const w = pyFloat(weight);
      if (w === undefined) {
        throw new TextError('bad_attention_weight', `attention weight must be a number, got '${weight}' in '${token}'`);
      }
      multiplyRange(roundBrackets.pop()!, w);
    } else if (token === ')' && roundBrackets.length > 0) {
      multiplyRange(roundBrackets.pop()!, ROUND_MULTIPLIER);
    } else if (token === ']' && squareBrackets.length > 0) {
      multiplyRange(squareBrackets.pop()!, SQUARE_MULTIPLIER);
    } else {
      const parts = token.split(BREAK_RE);
      parts.forEach((part, i) => {
        if (i > 0) res.push(['BREAK', -1]);
        res.push([part, 1.0]);
      });
    }
  }

  // Python iterates the leftover stacks from the bottom; the product order matters for the last bit.
  for (const pos of roundBrackets) multiplyRange(pos, ROUND_MULTIPLIER);
  for (const pos of squareBrackets) multiplyRange(pos, SQUARE_MULTIPLIER);

  if (res.length === 0) return [['', 1.0]];

  let i = 0;
  while (i + 1 < res.length) {
    if (res[i][1] === res[i + 1][1]) {
      res[i][0] += res[i + 1][0];
      res.splice(i + 1, 1);
    } else {
      i++;
    }
  }
  return res;
}

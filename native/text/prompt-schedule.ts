// Prompt editing and alternation as AUTOMATIC1111 v1.10.1 schedules them
// (`modules/prompt_parser.py: get_learned_conditioning_prompt_schedules`, `get_multicond_prompt_list`).
// A1111 parses with a lark Earley grammar:
//   start: (prompt | /[][():]/+)*          prompt: (emphasized | scheduled | alternate | plain | WS)*
//   emphasized: "(" prompt ")" | "(" prompt ":" prompt ")" | "[" prompt "]"
//   scheduled: "[" [prompt ":"] prompt ":" [WS] NUMBER [WS] "]"     alternate: "[" prompt ("|" [prompt])+ "]"
//   plain: /([^\\\[\]():|]|\\.)+/
// This file is a small recursive-descent parser for the same language. Inside a prompt every bracket
// must close, so an element's extent is fixed by bracket matching; only at the top level may a
// bracket or colon stand alone, and there a structured reading is preferred (as lark's result is).
// Any text the grammar rejects (e.g. a `|` outside brackets) is used verbatim for all steps.

import { TextError } from './errors.js';
import { PY_SPACE, PY_WORD_END, PY_WORD_START } from './python-compat.js';

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'seq'; items: Node[] }
  | { kind: 'scheduled'; before: Node | null; after: Node; number: string }
  | { kind: 'alternate'; options: Array<Node | null> };

/** `[end_at_step, text]`: the text is used while the step counter is ≤ end_at_step. */
export type ScheduleEntry = [endAtStep: number, text: string];

export interface ScheduleOptions {
  /** Steps of the hires pass; then integers count from the end of the first pass and fractions span 1..2. */
  hiresSteps?: number;
  /** A1111's "use old prompt editing timelines": `v < 1` is a fraction, anything else a step. */
  useOldScheduling?: boolean;
}

const WS_RE = new RegExp(`[${PY_SPACE}]+`, 'uy');
// lark's common.SIGNED_NUMBER: INT, DECIMAL (`1.`, `.5`, `1.5`), either with an exponent.
const NUMBER_RE = /[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?/y;
// `plain`: anything but `\ [ ] ( ) : |`, or a backslash escaping any character but a newline.
const PLAIN_RE = /(?:[^\\[\]():|]|\\[^\n])+/uy;
const STRAY = new Set(['[', ']', '(', ')', ':']);

class ScheduleParser {
  constructor(private readonly s: string) {}

  parseStart(): Node | undefined {
    const items: Node[] = [];
    let pos = 0;
    while (pos < this.s.length) {
      const prompt = this.parsePrompt(pos);
      if (prompt.end > pos) {
        items.push(prompt.node);
        pos = prompt.end;
      } else if (STRAY.has(this.s[pos])) {
        items.push({ kind: 'text', text: this.s[pos] });
        pos++;
      } else {
        return undefined;
      }
    }
    return { kind: 'seq', items };
  }

  /** A (possibly empty) run of elements; stops before the first character no element can start with. */
  private parsePrompt(start: number): { node: Node; end: number } {
    const items: Node[] = [];
    let pos = start;
    for (;;) {
      const c = this.s[pos];
      let el: { node: Node; end: number } | undefined;
      if (c === '(') el = this.parseRound(pos);
      else if (c === '[') el = this.parseSquare(pos);
      else el = this.matchText(PLAIN_RE, pos);
      if (el === undefined) break;
      items.push(el.node);
      pos = el.end;
    }
    return { node: { kind: 'seq', items }, end: pos };
  }

  private parseRound(start: number): { node: Node; end: number } | undefined {
    const first = this.parsePrompt(start + 1);
    if (this.s[first.end] === ')') {
      return { node: this.seq('(', first.node, ')'), end: first.end + 1 };
    }
    if (this.s[first.end] !== ':') return undefined;
    const second = this.parsePrompt(first.end + 1);
    if (this.s[second.end] !== ')') return undefined;
    return { node: this.seq('(', first.node, ':', second.node, ')'), end: second.end + 1 };
  }

  private parseSquare(start: number): { node: Node; end: number } | undefined {
    const first = this.parsePrompt(start + 1);
    const c = this.s[first.end];
    if (c === ']') return { node: this.seq('[', first.node, ']'), end: first.end + 1 };
    if (c === '|') return this.parseAlternate(first);
    if (c !== ':') return undefined;

    const whenOnly = this.parseWhen(first.end + 1);
    if (whenOnly !== undefined) {
      return { node: { kind: 'scheduled', before: null, after: first.node, number: whenOnly.number }, end: whenOnly.end };
    }
    const second = this.parsePrompt(first.end + 1);
    if (this.s[second.end] !== ':') return undefined;
    const when = this.parseWhen(second.end + 1);
    if (when === undefined) return undefined;
    return { node: { kind: 'scheduled', before: first.node, after: second.node, number: when.number }, end: when.end };
  }

  private parseAlternate(first: { node: Node; end: number }): { node: Node; end: number } | undefined {
    const options: Array<Node | null> = [first.node];
    let pos = first.end;
    while (this.s[pos] === '|') {
      const next = this.parsePrompt(pos + 1);
      options.push(next.end > pos + 1 ? next.node : null);
      pos = next.end;
    }
    if (this.s[pos] !== ']') return undefined;
    return { node: { kind: 'alternate', options }, end: pos + 1 };
  }

  /** `[WS] NUMBER [WS] "]"` */
  private parseWhen(start: number): { number: string; end: number } | undefined {
    let pos = this.skip(WS_RE, start);
    NUMBER_RE.lastIndex = pos;
    const m = NUMBER_RE.exec(this.s);
    if (m === null) return undefined;
    pos = this.skip(WS_RE, pos + m[0].length);
    if (this.s[pos] !== ']') return undefined;
    return { number: m[0], end: pos + 1 };
  }

  private matchText(re: RegExp, pos: number): { node: Node; end: number } | undefined {
    re.lastIndex = pos;
    const m = re.exec(this.s);
    if (m === null) return undefined;
    return { node: { kind: 'text', text: m[0] }, end: pos + m[0].length };
  }

  private skip(re: RegExp, pos: number): number {
    re.lastIndex = pos;
    const m = re.exec(this.s);
    return m === null ? pos : pos + m[0].length;
  }

  private seq(...parts: Array<string | Node>): Node {
    return { kind: 'seq', items: parts.map((p) => (typeof p === 'string' ? { kind: 'text', text: p } : p)) };
  }
}

interface StepRules {
  steps: number;
  intOffset: number;
  fltOffset: number;
  useOld: boolean;
}

// A1111's CollectSteps.scheduled: decimals are fractions of the run, integers absolute steps.
function whenStep(number: string, r: StepRules): number {
  let v = Number(number);
  if (r.useOld) {
    if (v < 1) v *= r.steps;
  } else if (number.includes('.')) {
    v = (v - r.fltOffset) * r.steps;
  } else {
    v = v - r.intOffset;
  }
  return Math.min(r.steps, Math.trunc(v));
}

function collectSteps(node: Node, r: StepRules, out: Set<number>, whens: Map<Node, number>): void {
  switch (node.kind) {
    case 'text':
      return;
    case 'seq':
      for (const item of node.items) collectSteps(item, r, out, whens);
      return;
    case 'scheduled': {
      const when = whenStep(node.number, r);
      whens.set(node, when);
      if (when >= 1) out.add(when);
      if (node.before !== null) collectSteps(node.before, r, out, whens);
      collectSteps(node.after, r, out, whens);
      return;
    }
    case 'alternate':
      for (let i = 1; i <= r.steps; i++) out.add(i);
      for (const option of node.options) if (option !== null) collectSteps(option, r, out, whens);
      return;
  }
}

function render(node: Node | null, step: number, whens: Map<Node, number>): string {
  if (node === null) return '';
  switch (node.kind) {
    case 'text':
      return node.text;
    case 'seq':
      return node.items.map((item) => render(item, step, whens)).join('');
    case 'scheduled':
      return step <= whens.get(node)! ? render(node.before, step, whens) : render(node.after, step, whens);
    case 'alternate': {
      const n = node.options.length;
      return render(node.options[(((step - 1) % n) + n) % n], step, whens);
    }
  }
}

/**
 * The texts a prompt turns into over a run of `steps` sampling steps.
 *
 * @example getPromptSchedule('a [cat:dog:0.5]', 20) // [[10, 'a cat'], [20, 'a dog']]
 */
export function getPromptSchedule(prompt: string, steps: number, opts: ScheduleOptions = {}): ScheduleEntry[] {
  if (!Number.isInteger(steps) || steps < 1) throw new TextError('bad_steps', `steps must be a positive integer, got ${steps}`);
  const useOld = opts.useOldScheduling ?? false;
  const hires = opts.hiresSteps !== undefined && opts.hiresSteps > 0 && !useOld;
  const rules: StepRules = hires
    ? { steps: opts.hiresSteps!, intOffset: steps, fltOffset: 1.0, useOld }
    : { steps, intOffset: 0, fltOffset: 0, useOld };

  const tree = new ScheduleParser(prompt).parseStart();
  if (tree === undefined) return [[rules.steps, prompt]];

  const stepSet = new Set<number>([rules.steps]);
  const whens = new Map<Node, number>();
  collectSteps(tree, rules, stepSet, whens);
  return [...stepSet].sort((a, b) => a - b).map((t): ScheduleEntry => [t, render(tree, t, whens)]);
}

/** `get_learned_conditioning_prompt_schedules(prompts, steps, hires_steps, use_old_scheduling)`. */
export function getLearnedConditioningPromptSchedules(prompts: string[], steps: number, opts: ScheduleOptions = {}): ScheduleEntry[][] {
  const cache = new Map<string, ScheduleEntry[]>();
  return prompts.map((p) => {
    let s = cache.get(p);
    if (s === undefined) {
      s = getPromptSchedule(p, steps, opts);
      cache.set(p, s);
    }
    return s.map(([t, text]): ScheduleEntry => [t, text]);
  });
}

/** The schedule entry in use at a step; `step` counts denoiser calls as A1111 does (README §3). */
export function scheduleIndexAt(endAtSteps: readonly number[], step: number): number {
  const i = endAtSteps.findIndex((end) => step <= end);
  return i === -1 ? 0 : i;
}

// ---- AND (composable diffusion) ------------------------------------------------------------------

const AND_RE = new RegExp(`${PY_WORD_START}AND${PY_WORD_END}`, 'u');
const WEIGHT_RE = new RegExp(
  `^([\\s\\S]*?)(?:[${PY_SPACE}]*:[${PY_SPACE}]*([-+]?(?:\\d+\\.?|\\d*\\.\\d+)))?[${PY_SPACE}]*$`,
  'u',
);

export interface MulticondPromptList {
  /** For each input prompt, its sub-prompts as `[index into flat, weight]`. */
  indexes: Array<Array<[index: number, weight: number]>>;
  /** Distinct sub-prompt texts, in order of first appearance. */
  flat: string[];
}

/**
 * Splits prompts on the standalone word `AND`; a trailing `:w` on a sub-prompt is its weight.
 *
 * @example getMulticondPromptList(['a cat :1.2 AND a dog']) // { indexes: [[[0, 1.2], [1, 1]]], flat: ['a cat', ' a dog'] }
 */
export function getMulticondPromptList(prompts: string[]): MulticondPromptList {
  const flat: string[] = [];
  const seen = new Map<string, number>();
  const indexes = prompts.map((prompt) =>
    prompt.split(AND_RE).map((sub): [number, number] => {
      const m = WEIGHT_RE.exec(sub);
      const text = m === null ? sub : m[1];
      const weight = m !== null && m[2] !== undefined ? Number(m[2]) : 1.0;
      let index = seen.get(text);
      if (index === undefined) {
        index = flat.length;
        flat.push(text);
        seen.set(text, index);
      }
      return [index, weight];
    }),
  );
  return { indexes, flat };
}

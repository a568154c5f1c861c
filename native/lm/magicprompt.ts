// dynamicprompts' MagicPrompt post-processing (v0.31.0 generators/magicprompt.py, `clean_up_magic_prompt`)
// with Python `re` semantics: Unicode `\w` / `\b`, `\s` = `str.isspace()`. Fixture README §9.
//
//   cleanUpMagicPrompt('a cat', 'a cat {{{cute}}} , fluffy!!! , 8k') // 'a cat cute))), (fluffy:1.33) , 8k'
import { PY_SPACE, PY_WORD } from '../text/python-compat.js';

const W = PY_WORD;
const S = PY_SPACE;
const BOUNDARY = `(?:(?<=[${W}])(?![${W}])|(?<![${W}])(?=[${W}]))`;

const EDGE_NON_WORD = new RegExp(`^[^${W}]+|[^${W}]+$`, 'gu');
const OPEN_PAREN_SPACE = new RegExp(`\\([${S}]+`, 'gu');
const SPACE_CLOSE_PAREN = new RegExp(`[${S}]+\\)`, 'gu');
const SPACED_HYPHEN = new RegExp(`(?<=[${W}])[${S}]+-[${S}]+(?=[${W}])`, 'gu');
const SEPARATORS = new RegExp(`[${S}]*[,;.]+[${S}]*(?=[a-zA-Z(])`, 'gu');
const UNDERSCORES = new RegExp(`[${S}]+_+[${S}]+`, 'gu');
const EMPTY_PHRASES = new RegExp(`(?<=[${W}]),[${S}]*,[${S}]*(?=[${W}])`, 'gu');
const BANGS = new RegExp(`${BOUNDARY}([${W}${S}\\-]+)(!+)`, 'gu');
const STRIP = new RegExp(`^[${S}]+|[${S}]+$`, 'gu');

/** Python's `repr(round(x, 2))` for the positive weights 1.1ⁿ (1.1, 1.21, 1.33, 1.46, ...). */
export function pythonWeight(bangs: number): string {
  const w = Number((1.1 ** bangs).toFixed(2));
  return Number.isInteger(w) ? `${w}.0` : String(w);
}

/** `clean_up_magic_prompt(orig_prompt, prompt)`. */
export function cleanUpMagicPrompt(origPrompt: string, generated: string): string {
  let prompt = generated;
  let removedPrefix = false;
  if (prompt.startsWith(origPrompt)) {
    prompt = prompt.slice(origPrompt.length);
    removedPrefix = true;
  }
  prompt = prompt.replaceAll('{', '(').replaceAll('}', ')').replace(STRIP, '');
  prompt = prompt.replace(EDGE_NON_WORD, '');
  prompt = prompt.replace(OPEN_PAREN_SPACE, '(');
  prompt = prompt.replace(SPACE_CLOSE_PAREN, ')');
  prompt = prompt.replace(SPACED_HYPHEN, '-');
  prompt = prompt.replace(SEPARATORS, ', ');
  prompt = prompt.replace(UNDERSCORES, ' ');
  prompt = prompt.replace(EMPTY_PHRASES, ', ');
  // re.findall runs once on this text; each replacement then applies to the text as it is by then.
  for (const m of [...prompt.matchAll(BANGS)]) {
    const phrase = m[1];
    prompt = prompt.replaceAll(phrase + m[2], `(${phrase}:${pythonWeight(m[2].length)})`);
  }
  return removedPrefix ? `${origPrompt} ${prompt}` : prompt;
}

/** dynamicprompts' blocklist: `re.compile(pattern, re.IGNORECASE).search(prompt)`. */
export function compileBlocklist(pattern: string): RegExp {
  return new RegExp(pattern, 'iu');
}

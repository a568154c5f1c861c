// Reading an A1111 infotext (the PNG `parameters` text) for the gallery's metadata viewer. The
// server writes it (server/infotext/); the viewer only needs the prompt, the negative prompt and
// the "Key: value" pairs of the last line, split by A1111's own rule (re_param).

export interface ParsedInfotext {
  prompt: string;
  negativePrompt: string;
  /** "Key: value" pairs in their written order, values unquoted. */
  params: [string, string][];
}

// A1111 modules/infotext_utils.py re_param: a key, a colon, then a quoted string or anything up to a comma.
const RE_PARAM = /\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)/g;
/** A1111 treats the last line as parameters only when it has at least this many pairs. */
const MIN_PARAM_PAIRS = 3;

function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) {
    try {
      return JSON.parse(v) as string;
    } catch {
      return v.slice(1, -1);
    }
  }
  return v;
}

function pairs(line: string): [string, string][] {
  const out: [string, string][] = [];
  for (const m of line.matchAll(RE_PARAM)) {
    const key = (m[1] ?? '').trim();
    if (key) out.push([key, unquote((m[2] ?? '').trim())]);
  }
  return out;
}

/**
 * @example parseInfotext('cat\nNegative prompt: dog\nSteps: 20, Seed: 1, Size: 512x512')
 *   // { prompt: 'cat', negativePrompt: 'dog', params: [['Steps','20'], ['Seed','1'], ['Size','512x512']] }
 */
export function parseInfotext(text: string): ParsedInfotext {
  const lines = text.trim().split('\n');
  let params: [string, string][] = [];
  const last = lines[lines.length - 1] ?? '';
  const lastPairs = pairs(last);
  if (lines.length > 0 && lastPairs.length >= MIN_PARAM_PAIRS) {
    params = lastPairs;
    lines.pop();
  }
  const prompt: string[] = [];
  const negative: string[] = [];
  let inNegative = false;
  for (const line of lines) {
    if (line.startsWith('Negative prompt:')) {
      inNegative = true;
      negative.push(line.slice('Negative prompt:'.length).trim());
    } else if (inNegative) {
      negative.push(line);
    } else {
      prompt.push(line);
    }
  }
  return { prompt: prompt.join('\n').trim(), negativePrompt: negative.join('\n').trim(), params };
}

/** One value by key (case-sensitive, as A1111 writes them). */
export function infotextValue(parsed: ParsedInfotext, key: string): string | undefined {
  return parsed.params.find(([k]) => k === key)?.[1];
}

/** LoRAs named in the prompt as `<lora:name:weight>`. */
export function lorasInPrompt(prompt: string): { name: string; weight: number }[] {
  return [...prompt.matchAll(/<lora:([^:>]+)(?::(-?\d+(?:\.\d+)?))?[^>]*>/gi)].map((m) => ({
    name: (m[1] ?? '').trim(),
    weight: m[2] === undefined ? 1 : Number(m[2]),
  }));
}

// Extra-network tags in prompts, as AUTOMATIC1111 v1.10.1 reads them (`modules/extra_networks.py:
// parse_prompt` and the Lora extension's `extra_networks_lora.py`). Every `<word:args>` tag is cut
// out of the prompt text (the text encoder never sees it); `lora` and its alias `lyco` become LoRA
// requests, anything else (e.g. `hypernet`) is returned untouched for whoever handles it.
//
// Arguments are split on `:`; an argument with exactly one `=` is named (`te=0.8`):
//   <lora:name>  <lora:name:0.8>  <lora:name:te:unet>  <lora:name:te:unet:dyn>  <lora:name:unet=0.5:te=1>

import { TextError } from './errors.js';
import { PY_WORD, pyFloatLiteral, pyInt } from './python-compat.js';

export interface LoraRequest {
  name: string;
  /** The multiplier written in the tag (text-encoder multiplier); 1.0 when absent. */
  weight: number;
  /** Text-encoder multiplier (`te=`), equal to `weight`. */
  teWeight: number;
  /** UNet multiplier (third positional or `unet=`), defaults to the text-encoder one. */
  unetWeight: number;
  /** LyCORIS/LoRA dynamic rank (`dyn=`), when given. */
  dynDim?: number;
}

export interface ExtraNetworkTag {
  /** The tag's kind, e.g. `hypernet`. */
  kind: string;
  /** The `:`-separated arguments, unparsed. */
  args: string[];
}

export interface ExtractedTags {
  /** The prompt without any `<kind:args>` tags (nothing else changes, spaces included). */
  prompt: string;
  loras: LoraRequest[];
  /** Tags of other kinds, in prompt order. */
  others: ExtraNetworkTag[];
}

const EXTRA_NET_RE = new RegExp(`<([${PY_WORD}]+):([^>]+)>`, 'gu');
const LORA_KINDS = new Set(['lora', 'lyco']);

function parseMultiplier(value: string, what: string, tag: string): number {
  const v = pyFloatLiteral(value);
  if (v === undefined) throw new TextError('bad_extra_network_args', `${what} in ${tag} must be a number, got '${value}'`);
  return v;
}

function toLora(args: string[], tag: string): LoraRequest {
  const positional: string[] = [];
  const named = new Map<string, string>();
  for (const item of args) {
    const parts = item.split('=');
    // Python's item.split('=', 2) has exactly two parts only when there is exactly one '='.
    if (parts.length === 2) named.set(parts[0], parts[1]);
    else positional.push(item);
  }
  if (positional.length === 0) throw new TextError('bad_extra_network_args', `${tag} has no network name`);

  let te = positional.length > 1 ? parseMultiplier(positional[1], 'the multiplier', tag) : 1.0;
  if (named.has('te')) te = parseMultiplier(named.get('te')!, 'te', tag);
  let unet = positional.length > 2 ? parseMultiplier(positional[2], 'the unet multiplier', tag) : te;
  if (named.has('unet')) unet = parseMultiplier(named.get('unet')!, 'unet', tag);

  let dyn: number | undefined;
  const dynText = named.get('dyn') ?? (positional.length > 3 ? positional[3] : undefined);
  if (dynText !== undefined) {
    dyn = pyInt(dynText);
    if (dyn === undefined) throw new TextError('bad_extra_network_args', `dyn in ${tag} must be an integer, got '${dynText}'`);
  }
  const lora: LoraRequest = { name: positional[0], weight: te, teWeight: te, unetWeight: unet };
  if (dyn !== undefined) lora.dynDim = dyn;
  return lora;
}

/**
 * Removes `<lora:…>`-style tags from a prompt and returns what they asked for.
 *
 * @example extractLoraTags('a cat <lora:add_detail:0.6>') // { prompt: 'a cat ', loras: [{ name: 'add_detail', weight: 0.6, … }], others: [] }
 * @throws TextError `bad_extra_network_args` when a LoRA multiplier is not a number
 */
export function extractLoraTags(prompt: string): ExtractedTags {
  const loras: LoraRequest[] = [];
  const others: ExtraNetworkTag[] = [];
  const stripped = prompt.replace(EXTRA_NET_RE, (tag: string, kind: string, argText: string) => {
    const args = argText.split(':');
    if (LORA_KINDS.has(kind)) loras.push(toLora(args, tag));
    else others.push({ kind, args });
    return '';
  });
  return { prompt: stripped, loras, others };
}

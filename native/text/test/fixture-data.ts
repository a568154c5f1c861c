// Typed readers for the text fixtures in ../shared/fixtures/sd1-tiny (tokens.json, prompts.json,
// cases.json → conditioning). Used by this folder's tests only; the files are read in place.
import { readFileSync } from 'node:fs';
import { sd1TinyPath } from '../../testing/fixtures.js';

export interface TokenCase {
  text: string;
  ids: number[];
  tokens: string[];
  count: number;
}

export interface PromptFixtures {
  parse_prompt_attention: Array<{ text: string; parsed?: Array<[string, number]>; error?: string }>;
  schedules_steps20: Array<{ text: string; schedule: Array<[number, string]> }>;
  schedules_steps20_use_old_scheduling: Array<{ text: string; schedule: Array<[number, string]> }>;
  schedules_steps20_hires_steps10: Array<{ text: string; schedule: Array<[number, string]> }>;
  multicond_AND: Array<{ text: string; subprompts: string[]; indexes_weights: Array<[number, number]> }>;
}

export interface ConditioningCase {
  prompt: string;
  token_count: number;
  chunks: Array<{ tokens: number[]; multipliers: number[] }>;
  shape: number[];
}

function readJson<T>(name: string): T {
  return JSON.parse(readFileSync(sd1TinyPath(name), 'utf8')) as T;
}

export function loadTokenCases(): { bos_id: number; eos_id: number; cases: TokenCase[] } {
  return readJson('tokens.json');
}

export function loadPromptFixtures(): PromptFixtures {
  return readJson('prompts.json');
}

export function loadConditioningCases(): Record<string, ConditioningCase> {
  return readJson<{ conditioning: Record<string, ConditioningCase> }>('cases.json').conditioning;
}

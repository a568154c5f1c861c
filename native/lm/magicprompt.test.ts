// dynamicprompts' clean_up_magic_prompt against the fixture's cases (README §9).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../testing/fixtures.js';
import { cleanUpMagicPrompt, pythonWeight } from './magicprompt.js';

const fixture = JSON.parse(readFileSync(fixturePath('gpt2-tiny', 'magicprompt_cleanup.json'), 'utf8')) as {
  cases: { orig_prompt: string; prompt: string; cleaned: string }[];
};

describe('clean_up_magic_prompt', () => {
  it.each(fixture.cases.map((c) => [JSON.stringify(c.prompt).slice(0, 50), c] as const))('%s', (_n, c) => {
    expect(cleanUpMagicPrompt(c.orig_prompt, c.prompt)).toBe(c.cleaned);
  });

  it('prints weights as Python rounds and prints them', () => {
    expect([1, 2, 3, 4, 5].map(pythonWeight)).toEqual(['1.1', '1.21', '1.33', '1.46', '1.61']);
  });

  it('leaves a prompt without the original prefix alone at the front', () => {
    expect(cleanUpMagicPrompt('dog', 'a dog!! running')).toBe('(a dog:1.21) running');
  });
});

import { describe, expect, it } from 'vitest';
import {
  addSlot,
  canAddSlot,
  emptySlot,
  extractLoraTags,
  MAX_LORA_SLOTS,
  mergeLoraInfo,
  removeSlot,
  slotsFromParams,
  slotsToParams,
  triggerWordsFor,
  updateSlot,
  validateSlots,
} from './lora-slots.js';

describe('LoRA slots', () => {
  it('adds slots up to seven and no more', () => {
    let slots = [emptySlot()];
    for (let i = 0; i < 10; i++) slots = addSlot(slots);
    expect(slots).toHaveLength(MAX_LORA_SLOTS);
    expect(MAX_LORA_SLOTS).toBe(7);
    expect(canAddSlot(slots)).toBe(false);
    expect(canAddSlot(removeSlot(slots, 0))).toBe(true);
  });

  it('updates and removes the right slot without mutating the input', () => {
    const slots = [emptySlot(), emptySlot()];
    const next = updateSlot(slots, 1, { name: 'ink', weight: 0.6 });
    expect(slots[1]).toEqual({ name: '', weight: 1 });
    expect(next[1]).toEqual({ name: 'ink', weight: 0.6 });
    expect(removeSlot(next, 0)).toEqual([{ name: 'ink', weight: 0.6 }]);
  });

  it('sends only filled slots', () => {
    const slots = [{ name: 'a', weight: 0.5 }, emptySlot(), { name: 'b', weight: -1 }];
    expect(slotsToParams(slots)).toEqual([
      { name: 'a', weight: 0.5 },
      { name: 'b', weight: -1 },
    ]);
  });

  it('rebuilds slots from parameters, capped at the limit', () => {
    const many = Array.from({ length: 9 }, (_, i) => ({ name: `l${i}` }));
    const slots = slotsFromParams(many);
    expect(slots).toHaveLength(7);
    expect(slots[0]).toEqual({ name: 'l0', weight: 1 });
  });

  it('flags out-of-range weights, duplicates and unknown names', () => {
    const known = [{ name: 'a' }, { name: 'b', trigger_words: ['inkstyle'] }];
    const errors = validateSlots(
      [
        { name: 'a', weight: 11 },
        { name: 'b', weight: 1 },
        { name: 'b', weight: 1 },
        { name: 'zzz', weight: 1 },
        emptySlot(),
      ],
      known,
    );
    expect(errors.get(0)).toMatch(/between -10 and 10, got 11/);
    expect(errors.has(1)).toBe(false);
    expect(errors.get(2)).toMatch(/already/);
    expect(errors.get(3)).toMatch(/unknown LoRA "zzz"/);
    expect(errors.has(4)).toBe(false);
    expect(triggerWordsFor('b', known)).toEqual(['inkstyle']);
    expect(triggerWordsFor('a', known)).toEqual([]);
  });

  it('moves <lora:...> tags out of a pasted prompt', () => {
    const r = extractLoraTags('a cat <lora:ink:0.7>, detailed <lora:Glow>');
    expect(r.loras).toEqual([
      { name: 'ink', weight: 0.7 },
      { name: 'Glow', weight: 1 },
    ]);
    expect(r.prompt).toBe('a cat, detailed');
  });

  it('merges the two LoRA lists: each name once, trigger words from whichever source knows them', () => {
    const fromInfo = [{ name: 'ink' }, { name: 'glow', trigger_words: ['glowing'] }];
    const fromRegistry = [{ name: 'glow', trigger_words: ['other'] }, { name: 'ink', trigger_words: ['inkstyle'] }, { name: 'new' }];
    const merged = mergeLoraInfo(fromInfo, fromRegistry);
    expect(merged).toEqual([{ name: 'ink', trigger_words: ['inkstyle'] }, { name: 'glow', trigger_words: ['glowing'] }, { name: 'new' }]);
    expect(triggerWordsFor('ink', merged)).toEqual(['inkstyle']);
    expect(mergeLoraInfo([{ name: 'x', trigger_words: [] }], [])).toEqual([{ name: 'x' }]);
  });
});

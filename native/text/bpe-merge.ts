// The merge loop of a byte-pair-encoding tokenizer, shared by CLIP's (native/text/clip-tokenizer.ts)
// and GPT-2's (native/lm/gpt2-tokenizer.ts) `bpe()`: both references repeatedly merge the adjacent
// pair of lowest rank, every occurrence of it left to right, until no ranked pair is left.

/**
 * Merges `symbols` (the characters of one pre-tokenized word) by `ranks` ("a b" → merge order).
 *
 * @example bpeMerge(['l', 'o', 'w'], new Map([['l o', 0], ['lo w', 1]])) // ['low']
 */
export function bpeMerge(symbols: readonly string[], ranks: ReadonlyMap<string, number>): string[] {
  let word = [...symbols];
  while (word.length > 1) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i < word.length - 1; i++) {
      const rank = ranks.get(`${word[i]} ${word[i + 1]}`);
      if (rank !== undefined && rank < bestRank) {
        bestRank = rank;
        best = i;
      }
    }
    if (best === -1) break;
    const first = word[best]!;
    const second = word[best + 1]!;
    const merged: string[] = [];
    for (let i = 0; i < word.length; ) {
      if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
        merged.push(first + second);
        i += 2;
      } else {
        merged.push(word[i]!);
        i += 1;
      }
    }
    word = merged;
  }
  return word;
}

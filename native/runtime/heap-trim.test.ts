// trimHeap() really returns freed heap memory: blocks malloc'd and freed below a live one stay in
// glibc's heap (and in RSS) until the trim.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { trimHeap } from './heap-trim.js';

const rssBytes = () => Number(readFileSync('/proc/self/statm', 'utf8').split(' ')[1]) * 4096;

describe('trimHeap', () => {
  it('gives freed heap pages back to the OS on glibc Linux', () => {
    expect(process.platform).toBe('linux'); // the machines this project's tests run on
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const libc = koffi.load('libc.so.6');
    const malloc = libc.func('void *malloc(size_t size)');
    const free = libc.func('void free(void *ptr)');
    const memset = libc.func('void *memset(void *s, int c, size_t n)');
    // 160 MB in 32 KB blocks (under glibc's mmap threshold, so from the heap), written so they are resident
    const size = 32 * 1024;
    const blocks = Array.from({ length: 5000 }, () => {
      const p = malloc(size);
      memset(p, 1, size);
      return p;
    });
    const filled = rssBytes();
    // free all but the last, which keeps the freed space below the top of the heap: glibc keeps it
    for (const p of blocks.slice(0, -1)) free(p);
    const freed = rssBytes();
    expect(trimHeap()).toBe(true);
    const trimmed = rssBytes();
    free(blocks[blocks.length - 1]);
    expect(filled - freed).toBeLessThan(32 * 2 ** 20); // free() alone returned little of it
    expect(freed - trimmed).toBeGreaterThan(100 * 2 ** 20); // the trim returned most of the 160 MB
  });
});

// Gives the heap's free pages back to the OS between model parts (ENGINE_MEMORY=low).
//
// Why: glibc keeps what ONNX Runtime frees (a released session's arena, its prepacking buffers) in
// its heaps and returns it only when the top of a heap is free. In `low` mode the next part's session
// then loads on top of 0.3–1.2 GiB nobody uses, so the same 512² txt2img peaked at 4.0 GiB in one
// process and 4.4–5.3 GiB in another. glibc's malloc_trim(0) returns every free page of every heap:
// with it the image peaked at 4.02–4.05 GiB in each of four processes (docs/engine-speed.md). Node has
// no binding for it, so it goes through koffi's FFI (prebuilt per platform, no compiler needed). Where
// there is no glibc (macOS, Windows, musl) there is nothing to call and trimHeap() does nothing.
import { createRequire } from 'node:module';

type MallocTrim = (pad: number) => number;

let mallocTrim: MallocTrim | null | undefined;

function loadMallocTrim(): MallocTrim | null {
  if (process.platform !== 'linux') return null;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    return koffi.load('libc.so.6').func('int malloc_trim(size_t pad)') as MallocTrim;
  } catch {
    return null; // no glibc, or no koffi build for this platform: memory is only returned later
  }
}

/** Returns free heap pages to the OS; false where this process cannot (no glibc). */
export function trimHeap(): boolean {
  if (mallocTrim === undefined) mallocTrim = loadMallocTrim();
  if (!mallocTrim) return false;
  mallocTrim(0);
  return true;
}

// Peak resident memory of one phase of a benchmark: Linux keeps a per-process high-water mark
// (VmHWM in /proc/self/status) that writing 5 to /proc/self/clear_refs resets. Note that the
// reset also lowers what getrusage reports as maxRSS, so read that first if you need it.
import { readFileSync, writeFileSync } from 'node:fs';

/** Resets the high-water mark; false where the platform has no such file. */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** Bytes of the highest resident set since the last reset, or undefined off Linux. */
export function peakRssSinceReset(): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

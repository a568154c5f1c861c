// Error messages reach token holders; absolute server paths in them say more than they need to
// (user names, mount points). Paths under DATA_DIR and MODELS_DIR are shown relative to them.
import { sep } from 'node:path';

/**
 * Makes a function that rewrites `/abs/data/outputs/x.png` to `DATA_DIR/outputs/x.png`.
 *
 * @example const redact = pathRedactor({ DATA_DIR: '/srv/easel/data', MODELS_DIR: '/srv/models' })
 */
export function pathRedactor(roots: Record<string, string>): (text: string) => string {
  // Longest root first, so a MODELS_DIR inside DATA_DIR is named as MODELS_DIR.
  const entries = Object.entries(roots)
    .filter(([, dir]) => dir.length > 1)
    .map(([name, dir]) => [name, dir.endsWith(sep) ? dir.slice(0, -1) : dir] as const)
    .sort((a, b) => b[1].length - a[1].length);
  return (text) => {
    let out = text;
    for (const [name, dir] of entries) out = out.split(dir + sep).join(`${name}/`).split(dir).join(name);
    return out;
  };
}

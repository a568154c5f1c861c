// `npm run -s detect -- --model FILE.pt --input IMAGE.png --json OUT.json [...]`: ADetailer's
// detection and mask pipeline from the command line (scripts/detect-command.ts). Exit 0 on success
// (also when nothing is detected); any error exits 1 with one line "<code>: <reason>".
import { runDetect } from './detect-command.js';

runDetect().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'error';
    const message = err instanceof Error ? err.message : String(err);
    console.error(`${code}: ${message}`.replace(/\s*\n\s*/g, ' '));
    process.exit(1);
  },
);

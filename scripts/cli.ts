// What the small command-line scripts (make:*, bench:*) share: strict flag parsing with `--help`,
// and running `main` to an exit code (an uncaught error prints its message and exits 1).
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * The parsed flags of `argv` (unknown flags throw), or null after printing `help` for `--help`.
 *
 * @example const values = parseFlags({ out: { type: 'string' } }, HELP); if (!values) return 0;
 */
export function parseFlags<const O extends Options>(options: O, help: string, argv: string[] = process.argv.slice(2)) {
  const { values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', default: false } }, strict: true });
  // The generic result type does not expose `help` here; it is always present (it has a default).
  if ((values as { help?: boolean }).help) {
    console.log(help);
    return null;
  }
  return values;
}

/** Runs `main` and exits with its code. */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}

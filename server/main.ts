// The entry point users start (`npm start`): composition only. Reads the config, starts the
// server, prints the URL with the token, and shuts down gracefully on SIGINT/SIGTERM.
import { loadConfig } from './config.js';
import { startServer } from './server.js';
import { isEaselError } from './protocol/errors.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env, process.argv.slice(2));
  const server = await startServer(config);
  // The token goes in the URL fragment: fragments never reach server logs or proxies.
  process.stdout.write(`Easel is running: ${server.url}/#token=${server.token}\n`);
  if (server.tokenCreated) process.stdout.write(`A new access token was saved to ${config.dataDir}/auth-token\n`);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    server.logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 20_000);
    force.unref();
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        server.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`easel: ${isEaselError(err) ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

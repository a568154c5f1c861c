// A real server in its own process for the crash test (so the test can SIGKILL it): the fake
// worker, DATA_DIR from the environment, and one JSON line `{ url, token }` once it listens.
import { startTestServer } from '../helpers.js';

const server = await startTestServer(
  { RATE_LIMIT_POINTS: '100000' },
  { dataDir: process.env.DATA_DIR!, fakeEnv: { FAKE_STEP_MS: process.env.FAKE_STEP_MS ?? '300' } },
);
process.stdout.write(`${JSON.stringify({ url: server.url, token: server.token })}\n`);

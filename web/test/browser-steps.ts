// Steps the browser tests share that wait through vitest's expect.poll (so they fail with the
// observed value): waiting for the header to say Connected, and opening the app with a token link.
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { TEST_TOKEN } from './harness.js';

// Locators pierce open shadow roots, but innerText does not: always read an element inside the
// component, never the custom element host itself.
export async function waitConnected(p: Page): Promise<void> {
  await expect.poll(() => p.locator('easel-connection-status button').innerText(), { timeout: 60_000 }).toContain('Connected');
}

/** Opens the app on `serverUrl` with a `#token=` link (as the server prints it) and waits until it is connected. */
export async function openConnected(p: Page, serverUrl: string, token = TEST_TOKEN): Promise<void> {
  await p.goto(`${serverUrl}/#token=${token}`);
  await waitConnected(p);
}

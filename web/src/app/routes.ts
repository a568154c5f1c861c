// Hash routing of the shell: `#/generate`, `#/inpaint`, `#/controlnet`, `#/gallery`, `#/settings`.
// Hash routes work the same at `/` on the server and under a GitHub Pages base path, with no
// server-side rewrite. `#token=...` (the link the server prints at start) is not a route.

export const TABS = ['generate', 'inpaint', 'controlnet', 'gallery', 'settings'] as const;
export type Tab = (typeof TABS)[number];
export const DEFAULT_TAB: Tab = 'generate';

export const TAB_LABELS: Record<Tab, string> = {
  generate: 'Generate',
  inpaint: 'Inpaint',
  controlnet: 'ControlNet',
  gallery: 'Gallery',
  settings: 'Settings',
};

/** Tabs shown only once the server's engine says the feature works (no tab that does nothing). */
const TAB_CAPABILITY: Partial<Record<Tab, string>> = { controlnet: 'controlnet' };

/** The tabs to show for the engine's capability flags. */
export function visibleTabs(capabilities: Readonly<Record<string, boolean>>): Tab[] {
  return TABS.filter((t) => {
    const cap = TAB_CAPABILITY[t];
    return cap === undefined || capabilities[cap] === true;
  });
}

export function isTab(s: string): s is Tab {
  return (TABS as readonly string[]).includes(s);
}

/** The tab a location hash shows; anything unknown shows the default tab. */
export function tabFromHash(hash: string): Tab {
  const name = hash.replace(/^#\/?/, '').split(/[/?]/)[0] ?? '';
  return isTab(name) ? name : DEFAULT_TAB;
}

export function hashForTab(tab: Tab): string {
  return `#/${tab}`;
}

/**
 * The token in a `#token=...` link (as printed by the server at start), if any.
 *
 * @example tokenFromHash('#token=abc') // 'abc'
 */
export function tokenFromHash(hash: string): string | null {
  const m = /^#(?:\/?\?)?(?:.*&)?token=([^&]+)/.exec(hash);
  return m?.[1] ? decodeURIComponent(m[1]) : null;
}

// Applies the theme to the document (the CSS custom properties switch on `data-theme`) and keeps
// the browser's theme-color in step; the choice itself is remembered by data/settings.ts.
import type { Theme } from '../data/settings.js';

const THEME_COLOR: Record<Theme, string> = { dark: '#14161b', light: '#f4f5f8' };

export function applyTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
  document.querySelector('meta[name="theme-color"]')?.setAttribute('content', THEME_COLOR[theme]);
}

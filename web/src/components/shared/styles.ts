// Styles shared by every component: touch-sized controls (44 px), fields, buttons, cards. Colours
// come from the theme custom properties of styles/global.css, which pierce shadow roots.
import { css } from 'lit';

/** The page's box-sizing rule does not reach into shadow roots. */
const borderBox = css`
  *,
  *::before,
  *::after {
    box-sizing: border-box;
  }
`;

export const controls = css`
  ${borderBox}
  :host {
    display: block;
    font-family: var(--font);
    color: var(--text);
  }
  button,
  .button {
    min-height: var(--touch);
    min-width: var(--touch);
    padding: 0 14px;
    border-radius: var(--radius);
    border: 1px solid var(--border);
    background: var(--surface-2);
    color: var(--text);
    font: inherit;
    font-size: 0.95rem;
    cursor: pointer;
    display: inline-flex;
    align-items: center;
    justify-content: center;
    gap: 6px;
    text-decoration: none;
    touch-action: manipulation;
  }
  button:hover:not(:disabled) {
    border-color: var(--accent);
  }
  button:focus-visible,
  input:focus-visible,
  select:focus-visible,
  textarea:focus-visible,
  .button:focus-visible {
    outline: 2px solid var(--focus);
    outline-offset: 2px;
  }
  button:disabled {
    opacity: 0.5;
    cursor: not-allowed;
  }
  button.primary {
    background: var(--accent);
    border-color: var(--accent);
    color: var(--accent-text);
    font-weight: 600;
  }
  button.danger {
    color: var(--danger);
  }
  button.icon {
    padding: 0;
    width: var(--touch);
  }
  input,
  select,
  textarea {
    min-height: var(--touch);
    width: 100%;
    min-width: 0;
    padding: 8px 10px;
    border-radius: var(--radius);
    border: 1px solid var(--border);
    background: var(--surface);
    color: var(--text);
    font: inherit;
    font-size: 16px; /* below 16px iOS Safari zooms the page on focus */
  }
  input[type='range'] {
    padding: 0;
    border: none;
    background: transparent;
    accent-color: var(--accent);
  }
  input[type='checkbox'] {
    width: 22px;
    height: 22px;
    min-height: 0;
    accent-color: var(--accent);
  }
  textarea {
    resize: vertical;
    line-height: 1.4;
  }
  label,
  .label {
    display: block;
    font-size: 0.85rem;
    color: var(--text-muted);
    margin-bottom: 4px;
  }
  .field {
    min-width: 0;
  }
  .field.invalid input,
  .field.invalid select,
  .field.invalid textarea {
    border-color: var(--danger);
  }
  .error-text {
    color: var(--danger);
    font-size: 0.85rem;
    margin-top: 4px;
  }
  .muted {
    color: var(--text-muted);
  }
  .card {
    background: var(--surface);
    border: 1px solid var(--border);
    border-radius: calc(var(--radius) + 4px);
    padding: 14px;
    min-width: 0;
  }
  .row {
    display: flex;
    gap: var(--gap);
    align-items: flex-end;
    flex-wrap: wrap;
  }
  .grid2 {
    display: grid;
    grid-template-columns: repeat(2, minmax(0, 1fr));
    gap: var(--gap);
  }
  h2 {
    font-size: 1.05rem;
    margin: 0 0 10px;
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
`;

/** The Generate and Inpaint tabs: one column on phones (each tab sets its own desktop columns), the primary action row, and the full-page drop hint. */
export const tabLayout = css`
  .layout {
    display: grid;
    gap: 16px;
    grid-template-columns: minmax(0, 1fr);
  }
  .actions {
    display: grid;
    grid-template-columns: minmax(0, 1fr) auto;
    gap: 8px;
  }
  .drop-hint {
    position: fixed;
    inset: 0;
    z-index: 60;
    display: grid;
    place-items: center;
    background: color-mix(in srgb, var(--accent) 30%, transparent);
    color: var(--text);
    font-size: 1.4rem;
    font-weight: 600;
    pointer-events: none;
  }
`;

/** The header's status pills (connection, Drive backup): a rounded button with an indicator that pulses while something is under way. */
export const statusPill = css`
  ${borderBox}
  button {
    display: inline-flex;
    align-items: center;
    gap: 6px;
    min-height: var(--touch);
    padding: 0 10px;
    border-radius: 999px;
    border: 1px solid var(--border);
    background: var(--surface-2);
    color: var(--text);
    font: inherit;
    font-size: 0.85rem;
    cursor: pointer;
    white-space: nowrap;
  }
  .pulsing {
    animation: pulse 1s ease-in-out infinite;
  }
  @keyframes pulse {
    50% {
      opacity: 0.3;
    }
  }
  @media (prefers-reduced-motion: reduce) {
    .pulsing {
      animation: none;
    }
  }
`;

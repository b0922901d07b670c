export { escapeHtml } from '../neutralise.js';

/** At most `max` characters, the last one … when cut. */
export function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, Math.max(1, max - 1))}…` : s;
}

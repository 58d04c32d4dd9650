/** Sortable ids unique across processes (UUIDv7), generated at the edge. Injected so tests can fix them. */
export type IdGenerator = () => string;

/**
 * The smallest UUIDv7 of a moment: every id minted at or after `ms` sorts at or above it, every id
 * minted before sorts below. Used to cut id-ordered data (events) by time without a time index.
 */
export function uuidv7Floor(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0').slice(-12);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
}

/** Sortable ids unique across processes (UUIDv7), generated at the edge. Injected so tests can fix them. */
export type IdGenerator = () => string;

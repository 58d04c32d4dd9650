/**
 * The audit trail is a hash chain per organisation: each record stores the previous record's hash and
 * its own SHA-256 over the canonical JSON (RFC 8785) of every field below. Altering a record changes its
 * hash; removing or reordering one breaks the next record's `prevHash` or the sequence.
 */
export interface AuditEntryContent {
  readonly orgId: string;
  readonly seq: number;
  readonly at: string;
  readonly actorKind: string;
  readonly actorId: string;
  readonly actorName: string;
  readonly action: string;
  readonly targetType: string;
  readonly targetId: string;
  readonly incidentId: string | null;
  /** Canonical JSON text of what changed. */
  readonly changes: string;
  readonly prevHash: string;
}

export interface AuditEntry extends AuditEntryContent {
  readonly id: string;
  readonly hash: string;
}

/** The hash before the first record of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

export type Sha256Hex = (text: string) => string;

/**
 * Pure; canonical JSON as RFC 8785 (JCS) defines it: object keys sorted by UTF-16 code units, no
 * whitespace, ECMAScript number and string serialisation (which JSON.stringify already follows).
 * `undefined` members are dropped as JSON.stringify drops them; non-finite numbers are refused.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('non-finite numbers have no JSON form');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  }
  if (typeof value === 'object') {
    if (value instanceof Date) return JSON.stringify(value.toISOString());
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  throw new TypeError(`${typeof value} has no JSON form`);
}

/** Pure given `sha256`; the hash a record with this content must carry. */
export function hashAuditEntry(content: AuditEntryContent, sha256: Sha256Hex): string {
  return sha256(
    canonicalJson({
      org_id: content.orgId,
      seq: content.seq,
      at: content.at,
      actor: { kind: content.actorKind, id: content.actorId, name: content.actorName },
      action: content.action,
      target: { type: content.targetType, id: content.targetId },
      incident_id: content.incidentId,
      changes: content.changes,
      prev_hash: content.prevHash,
    }),
  );
}

export type ChainProblem =
  | { readonly kind: 'sequence_gap'; readonly expectedSeq: number; readonly entry: AuditEntry }
  | { readonly kind: 'broken_link'; readonly expectedPrevHash: string; readonly entry: AuditEntry }
  | { readonly kind: 'hash_mismatch'; readonly computedHash: string; readonly entry: AuditEntry }
  | { readonly kind: 'head_mismatch'; readonly expectedSeq: number; readonly expectedHash: string };

/**
 * Verifies a chain incrementally: feed entries in `seq` order, then call `finish` with the recorded
 * head (the last seq and hash the store believes it wrote) to catch records removed from the end.
 * Returns the first problem found, or null.
 */
export class ChainVerifier {
  private expectedSeq = 1;
  private prevHash = GENESIS_HASH;
  private problem: ChainProblem | null = null;
  count = 0;

  constructor(private readonly sha256: Sha256Hex) {}

  /** Returns false once a problem is found (stop feeding). */
  add(entry: AuditEntry): boolean {
    if (this.problem) return false;
    this.count += 1;
    if (entry.seq !== this.expectedSeq) {
      this.problem = { kind: 'sequence_gap', expectedSeq: this.expectedSeq, entry };
      return false;
    }
    if (entry.prevHash !== this.prevHash) {
      this.problem = { kind: 'broken_link', expectedPrevHash: this.prevHash, entry };
      return false;
    }
    const computed = hashAuditEntry(entry, this.sha256);
    if (computed !== entry.hash) {
      this.problem = { kind: 'hash_mismatch', computedHash: computed, entry };
      return false;
    }
    this.expectedSeq += 1;
    this.prevHash = entry.hash;
    return true;
  }

  finish(head: { seq: number; hash: string } | null): ChainProblem | null {
    if (this.problem) return this.problem;
    const lastSeq = this.expectedSeq - 1;
    const headSeq = head?.seq ?? 0;
    const headHash = head?.hash ?? GENESIS_HASH;
    if (headSeq !== lastSeq || headHash !== this.prevHash) {
      return { kind: 'head_mismatch', expectedSeq: headSeq, expectedHash: headHash };
    }
    return null;
  }
}

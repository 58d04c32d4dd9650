import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  ChainVerifier,
  GENESIS_HASH,
  hashAuditEntry,
  type AuditEntry,
} from './audit-chain.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function chain(length: number): AuditEntry[] {
  const entries: AuditEntry[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= length; seq += 1) {
    const content = {
      orgId: 'org',
      seq,
      at: `2026-01-01T00:00:0${seq}.000Z`,
      actorKind: 'user',
      actorId: 'u1',
      actorName: 'alice@example.test',
      action: 'incident.updated',
      targetType: 'incident',
      targetId: 'i1',
      incidentId: 'i1',
      changes: canonicalJson({ title: { from: `t${seq - 1}`, to: `t${seq}` } }),
      prevHash: prev,
    };
    const entry = { ...content, id: `e${seq}`, hash: hashAuditEntry(content, sha256) };
    entries.push(entry);
    prev = entry.hash;
  }
  return entries;
}

function verify(entries: AuditEntry[], head: { seq: number; hash: string } | null) {
  const verifier = new ChainVerifier(sha256);
  for (const entry of entries) if (!verifier.add(entry)) break;
  return verifier.finish(head);
}

describe('canonical JSON (RFC 8785)', () => {
  it('sorts keys by UTF-16 code units and drops whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], é: 2, Z: { y: 1, x: 2 } })).toBe(
      '{"Z":{"x":2,"y":1},"a":[true,null,"x"],"b":1,"é":2}',
    );
  });
  it('serialises numbers as ECMAScript does', () => {
    expect(canonicalJson([1e21, 0.1, -0, 100])).toBe('[1e+21,0.1,0,100]');
  });
  it('refuses values without a JSON form', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
  });
});

describe('audit chain verification', () => {
  const good = chain(5);
  const head = { seq: 5, hash: good[4]!.hash };

  it('accepts an intact chain', () => {
    expect(verify(good, head)).toBeNull();
  });

  it('names an altered record', () => {
    const altered = good.map((e) => (e.seq === 3 ? { ...e, changes: '{"title":"forged"}' } : e));
    expect(verify(altered, head)).toMatchObject({ kind: 'hash_mismatch', entry: { id: 'e3' } });
  });

  it('names the record after a removed one', () => {
    expect(
      verify(
        good.filter((e) => e.seq !== 2),
        head,
      ),
    ).toMatchObject({ kind: 'sequence_gap', entry: { id: 'e3' } });
  });

  it('detects reordering even when sequence numbers are rewritten', () => {
    const swapped = [good[0]!, { ...good[2]!, seq: 2 }, { ...good[1]!, seq: 3 }, good[3]!, good[4]!];
    expect(verify(swapped, head)).toMatchObject({ kind: 'broken_link', entry: { id: 'e3' } });
  });

  it('detects records removed from the end against the recorded head', () => {
    expect(verify(good.slice(0, 4), head)).toMatchObject({ kind: 'head_mismatch' });
  });

  it('detects a forged replacement whose hash was recomputed', () => {
    const forged = { ...good[1]!, changes: '{"title":"forged"}' };
    const rehashed = { ...forged, hash: hashAuditEntry(forged, sha256) };
    const tampered = [good[0]!, rehashed, ...good.slice(2)];
    expect(verify(tampered, head)).toMatchObject({ kind: 'broken_link', entry: { id: 'e3' } });
  });
});

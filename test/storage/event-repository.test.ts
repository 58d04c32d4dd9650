import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from 'uuidv7';
import { findEvent, insertEvents } from '../../src/storage/event-repository.js';
import type { EventTable } from '../../src/storage/schema.js';
import { encodeStoredFields } from '../../src/storage/stored-fields.js';
import { announceSkips, ENGINES } from '../support/engines.js';
import { createTestEnv, type TestEnv } from '../support/harness.js';

announceSkips();

function row(orgId: string, n: number): EventTable {
  return {
    id: uuidv7(),
    org_id: orgId,
    received_at: '2026-03-01T09:00:00.000Z',
    timestamp: new Date(Date.UTC(2026, 2, 1, 8, 0, n)).toISOString(),
    source_kind: 'syslog',
    source_name: n % 2 === 0 ? 'tcp' : null,
    source_peer: '192.0.2.1:514',
    format: 'syslog',
    parser: 'openssh',
    message: null,
    fields: encodeStoredFields({
      'user.name': `user${n}`,
      'source.port': n,
      'event.category': ['authentication'],
    }),
    raw: `line ${n}`,
    raw_is_json: 0,
  };
}

describe.each(ENGINES)('insertEvents on $name', (engine) => {
  describe.skipIf(engine.skipReason !== null)(engine.skipReason ?? 'runs', () => {
    let env: TestEnv;
    beforeAll(async () => {
      env = await createTestEnv(engine);
    });
    afterAll(async () => {
      await env?.close();
    });

    const count = async () =>
      Number(
        (
          await env.context.database.db
            .selectFrom('events')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('org_id', '=', env.orgId)
            .executeTakeFirstOrThrow()
        ).n,
      );

    it('stores every row of a batch that is not a multiple of the statement size, each with its own values, and skips ids stored before', async () => {
      // 37 rows: two full multi-row statements on SQLite and five single ones.
      const first = Array.from({ length: 37 }, (_, n) => row(env.orgId, n));
      const { database } = env.context;
      await database.write((tx) => insertEvents(tx, first, database.prepareNative));
      expect(await count()).toBe(37);
      for (const n of [0, 15, 16, 31, 32, 36]) {
        const stored = await findEvent(database.db, env.orgId, first[n]!.id);
        expect(stored?.raw).toBe(`line ${n}`);
        expect(stored?.fields).toEqual({
          'user.name': `user${n}`,
          'source.port': n,
          'event.category': ['authentication'],
        });
        expect(stored?.source).toEqual({
          kind: 'syslog',
          name: n % 2 === 0 ? 'tcp' : null,
          peer: '192.0.2.1:514',
        });
        expect(stored?.timestamp).toBe(first[n]!.timestamp);
      }
      // A replay: the same 37 again with 3 new ones, in a different order.
      const again = [
        ...first.slice(20),
        row(env.orgId, 100),
        ...first.slice(0, 20),
        row(env.orgId, 101),
        row(env.orgId, 102),
      ];
      await database.write((tx) => insertEvents(tx, again, database.prepareNative));
      expect(await count()).toBe(40);
    });
  });
});

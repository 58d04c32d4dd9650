import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, openDatabase, type Database } from '../../src/storage/database.js';
import { announceSkips, ENGINES, type TestDatabase } from '../support/engines.js';

announceSkips();

describe.each(ENGINES)('database writes on $name', (engine) => {
  describe.skipIf(engine.skipReason !== null)(engine.skipReason ?? 'runs', () => {
    let test: TestDatabase;
    let database: Database;
    beforeAll(async () => {
      test = await engine.create();
      database = openDatabase({ dataDir: test.dataDir, databaseUrl: test.databaseUrl });
      await migrateToLatest(database);
    });
    afterAll(async () => {
      await database?.close();
      await test?.drop();
    });

    it('commits concurrent writes, and a failing one rolls back alone', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 30 }, (_, i) =>
          database.write(async (tx) => {
            await tx
              .insertInto('organizations')
              .values({
                id: crypto.randomUUID(),
                name: `o${i}`,
                slug: `batch-${i}`,
                created_at: new Date().toISOString(),
              })
              .execute();
            if (i % 7 === 3) throw new Error(`work ${i} fails after writing`);
            return i;
          }),
        ),
      );
      const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
      expect(failed).toEqual([3, 10, 17, 24]);
      expect((results[24] as PromiseRejectedResult).reason.message).toBe('work 24 fails after writing');
      expect(
        results
          .filter((r) => r.status === 'fulfilled')
          .map((r) => (r as PromiseFulfilledResult<number>).value),
      ).toHaveLength(26);
      const slugs = (
        await database.db
          .selectFrom('organizations')
          .select('slug')
          .where('slug', 'like', 'batch-%')
          .execute()
      ).map((r) => r.slug);
      expect(slugs.sort()).toEqual(
        Array.from({ length: 30 }, (_, i) => i)
          .filter((i) => !failed.includes(i))
          .map((i) => `batch-${i}`)
          .sort(),
      );
    });

    it.skipIf(engine.name !== 'postgres')(
      'runs a transaction again after a deadlock, and only then',
      async () => {
        let attempts = 0;
        const result = await database.write(async (tx) => {
          attempts += 1;
          await tx
            .insertInto('organizations')
            .values({
              id: crypto.randomUUID(),
              name: 'r',
              slug: `retry-${attempts}`,
              created_at: new Date().toISOString(),
            })
            .execute();
          if (attempts === 1) throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
          return attempts;
        });
        expect(result).toBe(2);
        const slugs = (
          await database.db
            .selectFrom('organizations')
            .select('slug')
            .where('slug', 'like', 'retry-%')
            .execute()
        ).map((r) => r.slug);
        expect(slugs).toEqual(['retry-2']);
        let other = 0;
        await expect(
          database.write(async () => {
            other += 1;
            throw Object.assign(new Error('unique violation'), { code: '23505' });
          }),
        ).rejects.toThrow('unique violation');
        expect(other).toBe(1);
      },
    );

    /** Whether the transaction `tx` runs in will be flushed to disk at commit. */
    const flushed = async (tx: Parameters<Parameters<Database['write']>[0]>[0]): Promise<boolean> => {
      if (database.dialect === 'postgres') {
        const { rows } = await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(tx);
        return rows[0]!.synchronous_commit !== 'off';
      }
      const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(tx);
      return rows[0]!.synchronous === 2; // FULL; NORMAL is 1
    };

    it('flushes every commit unless a write says it need not be durable', async () => {
      expect(await database.write(flushed)).toBe(true);
      expect(await database.write(flushed, { durable: false })).toBe(false);
      expect(await database.write(flushed, { durable: true })).toBe(true);
      expect(await database.write(flushed, { durable: false })).toBe(false);
      expect(await database.write(flushed)).toBe(true);
    });

    it.runIf(engine.name === 'sqlite')(
      'flushes a group commit that holds any durable write, whatever the others asked',
      async () => {
        const both = await Promise.all([
          database.write(flushed, { durable: false }),
          database.write(flushed),
          database.write(flushed, { durable: false }),
        ]);
        expect(both).toEqual([true, true, true]);
        // Outside a write, the connection is back to flushing every commit.
        await database.write(flushed, { durable: false });
        const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(database.db);
        expect(rows[0]!.synchronous).toBe(2);
      },
    );
  });
});

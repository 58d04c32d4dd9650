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
  });
});

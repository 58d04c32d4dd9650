/**
 * Background WAL checkpoints (SQLite): the database file receives the committed pages while the
 * writer's own autocheckpoint is far away, the log is rewound instead of growing without end, and
 * closing stops the thread.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/storage/database.js';

let dir: string | null = null;
let database: Database | null = null;
afterEach(async () => {
  await database?.close();
  database = null;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = null;
});

async function until(probe: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return probe();
}

describe('background WAL checkpoints', () => {
  it('copy committed pages into the database file from another thread', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'firebreak-wal-'));
    database = openDatabase({ dataDir: dir, backgroundCheckpoints: true });
    const file = path.join(dir, 'firebreak.db');
    await database.write((tx) => sql`create table filler (id integer primary key, body text)`.execute(tx));
    const before = (await stat(file)).size;
    const body = 'x'.repeat(2000);
    for (let batch = 0; batch < 20; batch++) {
      await database.write(async (tx) => {
        for (let i = 0; i < 100; i++) await sql`insert into filler (body) values (${body})`.execute(tx);
      });
    }
    // About 4 MB went into the log; the writer alone would leave it there (its threshold is 256 MiB).
    const grown = await until(async () => (await stat(file)).size > before + 3_000_000, 5000);
    expect(grown).toBe(true);
    const rows = await sql<{ n: number }>`select count(*) as n from filler`.execute(database.db);
    expect(rows.rows[0]!.n).toBe(2000);
  });

  it('without it, the same writes stay in the log (the writer checkpoints only past 1,000 pages)', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'firebreak-wal-'));
    database = openDatabase({ dataDir: dir });
    const file = path.join(dir, 'firebreak.db');
    await database.write((tx) => sql`create table filler (id integer primary key, body text)`.execute(tx));
    const before = (await stat(file)).size;
    await database.write(async (tx) => {
      for (let i = 0; i < 200; i++)
        await sql`insert into filler (body) values (${'x'.repeat(2000)})`.execute(tx);
    });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await stat(file)).size).toBe(before);
  });
});

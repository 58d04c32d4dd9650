import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

/**
 * The database engines every contract suite runs against. SQLite always; PostgreSQL when
 * FIREBREAK_TEST_DATABASE_URL names a server (each suite gets a fresh database it drops afterwards).
 */
export interface TestDatabase {
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  drop(): Promise<void>;
}

export interface Engine {
  readonly name: 'sqlite' | 'postgres';
  /** Why the engine is skipped, or null when it runs. */
  readonly skipReason: string | null;
  create(): Promise<TestDatabase>;
}

const PG_URL = process.env.FIREBREAK_TEST_DATABASE_URL;

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'firebreak-test-'));
}

const sqlite: Engine = {
  name: 'sqlite',
  skipReason: null,
  create: () => {
    const dataDir = tempDir();
    return Promise.resolve({
      dataDir,
      databaseUrl: undefined,
      drop: () => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })),
    });
  },
};

const postgres: Engine = {
  name: 'postgres',
  skipReason: PG_URL ? null : 'FIREBREAK_TEST_DATABASE_URL is not set; PostgreSQL suites skipped',
  create: async () => {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    const name = `firebreak_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(PG_URL!);
    url.pathname = `/${name}`;
    const dataDir = tempDir();
    return {
      dataDir,
      databaseUrl: url.toString(),
      drop: async () => {
        rmSync(dataDir, { recursive: true, force: true });
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        // A pool's end() resolves while its connections may still be closing; forcing the drop then
        // kills them mid-close, and their clients raise the error with nobody listening. Wait (up
        // to 5 s) until they are gone, then drop (forcing only what is left after that).
        for (let waited = 0; waited < 5000; waited += 50) {
          const { rows } = await client.query<{ n: string }>(
            'select count(*) as n from pg_stat_activity where datname = $1',
            [name],
          );
          if (Number(rows[0]!.n) === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await client.query(`drop database if exists ${name} with (force)`);
        await client.end();
      },
    };
  },
};

export const ENGINES: readonly Engine[] = [sqlite, postgres];

let announced = false;
/** Says once, on stderr, which engines are skipped and why. */
export function announceSkips(): void {
  if (announced) return;
  announced = true;
  for (const engine of ENGINES)
    if (engine.skipReason) process.stderr.write(`[firebreak tests] ${engine.skipReason}\n`);
}

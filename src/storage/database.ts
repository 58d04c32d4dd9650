import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  Kysely,
  Migrator,
  sql,
  PostgresDialect,
  SqliteDialect,
  type SqliteDatabase as KyselySqliteDatabase,
} from 'kysely';
import pg from 'pg';
import { migrationProvider } from './migrations/index.js';
import type { Schema } from './schema.js';
import { startWalCheckpointer } from './wal-checkpointer.js';
import { WriteBatcher, type WriteWork } from './write-batcher.js';

export type DialectName = 'sqlite' | 'postgres';

export interface Database {
  readonly db: Kysely<Schema>;
  readonly dialect: DialectName;
  /** Where the data lives, for messages: a file path or the URL without its password. */
  readonly location: string;
  /**
   * Runs `work` in a write transaction and resolves once it is committed. PostgreSQL: one transaction
   * per call. SQLite: group commit (see WriteBatcher). Never call it from inside another `write`.
   */
  write<T>(work: WriteWork<T>, options?: WriteOptions): Promise<T>;
  /**
   * SQLite only: a prepared statement on the one connection, for hot bulk paths where building each
   * query through Kysely costs more than running it. Use it only inside `write` (the transaction is
   * open on the same connection) and only with bound parameters.
   */
  readonly prepareNative?: (sql: string) => SqliteDatabase.Statement;
  close(): Promise<void>;
}

export interface WriteOptions {
  /**
   * False: the commit need not reach the disk before `write` resolves (SQLite `synchronous=NORMAL`
   * for that commit, PostgreSQL `synchronous_commit = off`). It survives a crash of Firebreak (the
   * data was handed to the operating system or the database server) but may be lost, whole, on
   * power loss or an operating-system crash, until a later durable commit flushes it with its own.
   * Only for data that can be rebuilt from a durable source (the ingestion pipeline's output, from
   * the spool). Default true.
   */
  readonly durable?: boolean;
}

export interface DatabaseOptions {
  /** A `postgres://` or `postgresql://` URL; when absent, SQLite under `dataDir`. */
  readonly databaseUrl?: string | undefined;
  readonly dataDir: string;
  /** Pool size for PostgreSQL. */
  readonly poolSize?: number;
  /**
   * SQLite: copy the write-ahead log into the database from a background thread (wal-checkpointer.ts)
   * instead of inside commits. The server turns it on; short-lived tools and tests need not.
   */
  readonly backgroundCheckpoints?: boolean;
}

const PG_INT8 = 20;
const PG_TIMESTAMPTZ = 1184;

/** Shows a database URL without its password, for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable database URL)';
  }
}

/** Opens the database the options name. Does not migrate: call `migrateToLatest`. */
export function openDatabase(options: DatabaseOptions): Database {
  const url = options.databaseUrl;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      // Counts fit in a double; timestamps leave the driver as ISO-8601 UTC text, like SQLite's.
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
          if (oid === PG_INT8) return (value: string) => Number(value);
          if (oid === PG_TIMESTAMPTZ) return (value: string) => new Date(value).toISOString();
          return pg.types.getTypeParser(oid, format);
        }) as typeof pg.types.getTypeParser,
      },
    });
    const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      dialect: 'postgres',
      location: redactUrl(url),
      write: (work, options) =>
        withRetryOnConflict(() =>
          db.transaction().execute(async (tx) => {
            if (options?.durable === false) await sql`set local synchronous_commit = off`.execute(tx);
            return work(tx);
          }),
        ),
      close: () => db.destroy(),
    };
  }
  if (url) throw new Error(`unsupported database URL ${redactUrl(url)}: expected postgres://`);

  mkdirSync(options.dataDir, { recursive: true });
  const file = path.join(options.dataDir, 'firebreak.db');
  const sqlite = new SqliteDatabase(file);
  // WAL lets readers run beside the writer; FULL makes every commit durable across power loss,
  // which forensic records need more than the last few percent of write speed.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // SQLite's default page cache is 2 MB; at 10^5 incidents and 10^6 alerts every list and lookup
  // would go back to the OS for pages. 64 MB of cache and memory-mapped reads keep them in process.
  sqlite.pragma('cache_size = -65536');
  sqlite.pragma('mmap_size = 1073741824');
  // With background checkpoints the writer checkpoints only if the log passes 256 MiB (the
  // background thread fell behind); SQLite's default of 4 MiB would put the checkpoint back into
  // the commits.
  const checkpointer = options.backgroundCheckpoints ? startWalCheckpointer(file) : null;
  if (checkpointer) sqlite.pragma('wal_autocheckpoint = 65536');
  const statements = withStatementCache(sqlite);
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: statements }) });
  const batcher = new WriteBatcher(db);
  return {
    db,
    dialect: 'sqlite',
    location: file,
    write: (work, options) => batcher.run(work, options?.durable ?? true),
    prepareNative: (text) => statements.prepare(text) as SqliteDatabase.Statement,
    close: async () => {
      await checkpointer?.stop();
      await db.destroy();
    },
  };
}

/** Runs every pending migration; throws with the failing migration's error. Returns names applied. */
export async function migrateToLatest(database: Database): Promise<string[]> {
  const migrator = new Migrator({
    db: database.db,
    provider: migrationProvider(database.dialect),
    migrationTableName: 'firebreak_migrations',
    migrationLockTableName: 'firebreak_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * Kysely prepares every query anew; compiling SQL costs as much as running a small indexed query.
 * Reusing prepared statements by SQL text is safe because Kysely's SQLite driver runs one query at a
 * time on its single connection. The cache is bounded (queries with `in (...)` lists vary in text).
 */
function withStatementCache(sqlite: SqliteDatabase.Database, capacity = 500): KyselySqliteDatabase {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare: (sql: string) => {
      let statement = cache.get(sql);
      if (statement) {
        cache.delete(sql);
      } else {
        statement = sqlite.prepare(sql);
        if (cache.size >= capacity) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, statement);
      return statement;
    },
  };
}

/** PostgreSQL error codes after which the whole transaction may simply be run again. */
const RETRYABLE_PG_CODES = new Set(['40P01', '40001']); // deadlock_detected, serialization_failure

/**
 * Two commands can lock the same rows in opposite orders (say, one updates an alert and then appends
 * to the audit chain while another holds the chain head and then touches that alert); PostgreSQL breaks
 * the cycle by failing one. Running the loser again is safe: its transaction was rolled back whole.
 */
async function withRetryOnConflict<T>(run: () => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await run();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (attempt >= attempts || typeof code !== 'string' || !RETRYABLE_PG_CODES.has(code)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
}

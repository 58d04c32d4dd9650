import { randomUUID } from 'node:crypto';
import { uuidv7 } from 'uuidv7';
import { systemClock, type Clock } from '../core/clock.js';
import {
  announce,
  sha256Hex,
  type DomainEvent,
  type DomainEventListener,
  type ServiceContext,
} from '../services/context.js';
import { listenForChanges } from '../storage/change-feed.js';
import { migrateToLatest, openDatabase, type Database } from '../storage/database.js';
import type { Config } from './config.js';

/** Opens and migrates the configured database and wires the service context around it. */
export async function openContext(
  config: Pick<Config, 'dataDir' | 'databaseUrl'>,
  clock: Clock = systemClock,
  options: { backgroundCheckpoints?: boolean } = {},
): Promise<ServiceContext> {
  const database: Database = openDatabase({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    backgroundCheckpoints: options.backgroundCheckpoints ?? false,
  });
  try {
    await migrateToLatest(database);
  } catch (error) {
    await database.close();
    throw error;
  }
  return {
    database,
    clock,
    newId: uuidv7,
    sha256: sha256Hex,
    listeners: new Set<DomainEventListener>(),
    instanceId: randomUUID(),
  };
}

/**
 * PostgreSQL: hear the changes other Firebreak processes commit on the same database (live streams,
 * credential revocations). Returns a context whose `database.close` also stops listening. SQLite has
 * one process, so there is nothing to hear.
 */
export async function withChangeFeed(
  context: ServiceContext,
  databaseUrl: string | undefined,
  onError: (error: unknown) => void,
): Promise<ServiceContext> {
  if (context.database.dialect !== 'postgres' || !databaseUrl) return context;
  const feed = await listenForChanges(
    databaseUrl,
    (payload) => {
      let notice: (DomainEvent & { origin?: string }) | null = null;
      try {
        notice = JSON.parse(payload) as DomainEvent & { origin?: string };
      } catch (error) {
        onError(error);
      }
      if (notice && notice.origin !== context.instanceId) {
        const { origin: _origin, ...event } = notice;
        announce(context, event);
      }
    },
    onError,
  );
  const database = context.database;
  return {
    ...context,
    database: {
      ...database,
      close: async () => {
        await feed.close();
        await database.close();
      },
    },
  };
}

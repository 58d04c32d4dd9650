import { uuidv7 } from 'uuidv7';
import { systemClock, type Clock } from '../core/clock.js';
import { sha256Hex, type DomainEventListener, type ServiceContext } from '../services/context.js';
import { migrateToLatest, openDatabase, type Database } from '../storage/database.js';
import type { Config } from './config.js';

/** Opens and migrates the configured database and wires the service context around it. */
export async function openContext(
  config: Pick<Config, 'dataDir' | 'databaseUrl'>,
  clock: Clock = systemClock,
): Promise<ServiceContext> {
  const database: Database = openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  try {
    await migrateToLatest(database);
  } catch (error) {
    await database.close();
    throw error;
  }
  return { database, clock, newId: uuidv7, sha256: sha256Hex, listeners: new Set<DomainEventListener>() };
}

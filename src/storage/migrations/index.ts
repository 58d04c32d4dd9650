import type { Kysely, Migration, MigrationProvider } from 'kysely';
import type { DialectName } from '../database.js';
import * as initial from './2026112601-initial.js';
import * as incidentSearch from './2026112602-incident-search.js';
import * as events from './2026112703-events.js';
import * as integrations from './2026112704-integrations.js';
import * as detection from './2026112705-detection.js';
import * as eventSightings from './2026112706-event-sightings.js';
import * as detectionLists from './2026112707-detection-lists.js';
import * as incidentClosedIndex from './2026112708-incident-closed-index.js';
import * as ingestSubmissions from './2026112709-ingest-submissions.js';

export interface MigrationContext {
  readonly dialect: DialectName;
}

interface VersionedMigration {
  up(db: Kysely<unknown>, context: MigrationContext): Promise<void>;
}

/** Every migration, in order. Names are timestamps so they sort; never rename or edit a released one. */
const MIGRATIONS: Record<string, VersionedMigration> = {
  '2026112601-initial': initial,
  '2026112602-incident-search': incidentSearch,
  '2026112703-events': events,
  '2026112704-integrations': integrations,
  '2026112705-detection': detection,
  '2026112706-event-sightings': eventSightings,
  '2026112707-detection-lists': detectionLists,
  '2026112708-incident-closed-index': incidentClosedIndex,
  '2026112709-ingest-submissions': ingestSubmissions,
};

/** Migrations are compiled into the package (no directory scan), so a bundled install finds them. */
export function migrationProvider(dialect: DialectName): MigrationProvider {
  return {
    getMigrations(): Promise<Record<string, Migration>> {
      const entries = Object.entries(MIGRATIONS).map(([name, migration]): [string, Migration] => [
        name,
        { up: (db) => migration.up(db, { dialect }) },
      ]);
      return Promise.resolve(Object.fromEntries(entries));
    },
  };
}

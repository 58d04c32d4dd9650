import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Indexed substring search over incident titles and descriptions (`?q=`), so a rare or absent term
 * does not scan every incident. SQLite: an FTS5 table with the trigram tokenizer (substring and
 * case-insensitive, like LIKE), kept in step by triggers. PostgreSQL: pg_trgm GIN indexes that ILIKE
 * uses; where the extension is not available the search still works, unindexed.
 */
export async function up(db: Kysely<unknown>, { dialect }: MigrationContext): Promise<void> {
  if (dialect === 'postgres') {
    const available = await sql<{
      n: number;
    }>`select count(*)::int as n from pg_available_extensions where name = 'pg_trgm'`.execute(db);
    if ((available.rows[0]?.n ?? 0) === 0) return;
    await sql`create extension if not exists pg_trgm`.execute(db);
    await sql`create index incidents_title_trgm on incidents using gin (title gin_trgm_ops)`.execute(db);
    await sql`create index incidents_description_trgm on incidents using gin (description gin_trgm_ops)`.execute(
      db,
    );
    return;
  }
  await sql`create virtual table incidents_search using fts5(title, description, content='incidents', content_rowid='rowid', tokenize='trigram')`.execute(
    db,
  );
  await sql`insert into incidents_search(incidents_search) values ('rebuild')`.execute(db);
  await sql`create trigger incidents_search_insert after insert on incidents begin
      insert into incidents_search(rowid, title, description) values (new.rowid, new.title, new.description);
    end`.execute(db);
  await sql`create trigger incidents_search_delete after delete on incidents begin
      insert into incidents_search(incidents_search, rowid, title, description) values ('delete', old.rowid, old.title, old.description);
    end`.execute(db);
  // Saves write every column, so compare before re-indexing.
  await sql`create trigger incidents_search_update after update of title, description on incidents
    when old.title is not new.title or old.description is not new.description begin
      insert into incidents_search(incidents_search, rowid, title, description) values ('delete', old.rowid, old.title, old.description);
      insert into incidents_search(rowid, title, description) values (new.rowid, new.title, new.description);
    end`.execute(db);
}

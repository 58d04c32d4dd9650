import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { systemActor } from '../core/actor.js';
import { ensureDefaultOrganization } from '../services/identity.js';
import { DEFAULT_ARCHIVE_LIMITS, readRuleArchive } from '../services/rule-archive.js';
import { saveRuleSources, type RuleDocumentResult, type RuleSource } from '../services/rules.js';
import { loadConfig } from '../server/config.js';
import { openContext } from '../server/context.js';
import { findOrganizationBySlug } from '../storage/identity-repository.js';

/** Where the rule commands write; injectable so tests run them in-process. */
export interface RuleCommandIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly setExitCode: (code: number) => void;
}

interface ImportFlags {
  config?: string;
  dataDir?: string;
  databaseUrl?: string;
  org: string;
  json?: boolean;
}

const RULE_FILE = /\.ya?ml$/i;
const ZIP_FILE = /\.zip$/i;

/** Rule sources under `path`: a YAML file, a zip, or a folder searched recursively for both. */
async function sourcesAt(path: string): Promise<RuleSource[]> {
  const info = await stat(path);
  if (info.isFile()) {
    if (ZIP_FILE.test(path)) {
      if (info.size > DEFAULT_ARCHIVE_LIMITS.maxTotalBytes)
        throw new Error(`${path}: larger than ${DEFAULT_ARCHIVE_LIMITS.maxTotalBytes} bytes`);
      return (await readRuleArchive(await readFile(path))).map((s) => ({
        file: `${path}:${s.file ?? ''}`,
        text: s.text,
      }));
    }
    return [{ file: path, text: await readFile(path, 'utf8') }];
  }
  const out: RuleSource[] = [];
  const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) out.push(...(await sourcesAt(full)));
    else if (entry.isFile() && (RULE_FILE.test(entry.name) || ZIP_FILE.test(entry.name)))
      out.push(...(await sourcesAt(full)));
  }
  return out;
}

function summaryLine(results: readonly RuleDocumentResult[]): string {
  const count = (s: RuleDocumentResult['status']) => results.filter((r) => r.status === s).length;
  return `${count('created')} created, ${count('updated')} updated, ${count('unchanged')} unchanged, ${count('failed')} failed`;
}

/**
 * Adds `rules import PATH... [--org SLUG] [--json]`: stores rule files, folders (recursively) and zip
 * archives straight into the database of a data dir or database URL, as the API's import does.
 * Exit status 1 when any document was refused.
 */
export function registerRuleCommands(program: Command, io: RuleCommandIo): void {
  const rules =
    program.commands.find((c) => c.name() === 'rules') ??
    program.command('rules').description('detection rules');
  rules
    .command('import')
    .description('store Sigma rules (files, folders searched recursively, .zip archives) in the database')
    .argument('<path...>', 'rule files, folders or zip archives')
    .option('--org <slug>', 'organisation slug', 'default')
    .option('--json', 'print every document result as JSON')
    .option('--config <file>', 'YAML file of settings (env FIREBREAK_CONFIG); flags and environment win')
    .option('--data-dir <dir>', 'where SQLite data lives (env FIREBREAK_DATA_DIR, default ./data)')
    .option('--database-url <url>', 'postgres:// URL to use PostgreSQL (env FIREBREAK_DATABASE_URL)')
    .action(async (paths: string[], flags: ImportFlags) => {
      const sources: RuleSource[] = [];
      for (const path of paths) sources.push(...(await sourcesAt(path)));
      const context = await openContext(
        loadConfig({ config: flags.config, dataDir: flags.dataDir, databaseUrl: flags.databaseUrl }),
      );
      try {
        await ensureDefaultOrganization(context);
        const org = await findOrganizationBySlug(context.database.db, flags.org);
        if (!org) throw new Error(`no organisation with slug ${flags.org}`);
        const actor = { ...systemActor(org.id), id: 'cli', name: 'firebreak rules import' };
        const results = await saveRuleSources(context, actor, sources);
        if (flags.json) {
          for (const r of results) io.out(`${JSON.stringify(r)}\n`);
        } else {
          for (const r of results.filter((x) => x.status === 'failed'))
            io.err(
              `refused ${r.file ?? '-'} document ${r.document}: ${r.error?.message ?? 'unknown error'}\n`,
            );
          io.out(`${sources.length} files: ${summaryLine(results)}\n`);
        }
        if (results.some((r) => r.status === 'failed')) io.setExitCode(1);
      } finally {
        await context.database.close();
      }
    });
}

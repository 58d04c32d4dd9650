import { readFile, readdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SigmaRuleError } from '../detection/errors.js';
import { parseLogsourceMappingYaml, type LogsourceMapping } from '../detection/logsource.js';
import { buildRuleSet, type RuleFailure, type RuleSet, type SourceDocument } from '../detection/rule-set.js';
import { parseSigmaYaml, STATUSES } from '../detection/sigma-rule.js';

/**
 * The shipped log-source mapping: `config/logsources.yml` at the package root. Both `src/hunt/*.ts`
 * and `dist/hunt/*.js` sit two levels below the root, so one relative path serves both.
 */
export const DEFAULT_MAPPING_PATH = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'config',
  'logsources.yml',
);

/** Reads and validates a log-source mapping file (the shipped one by default). */
export async function loadMapping(path: string = DEFAULT_MAPPING_PATH): Promise<LogsourceMapping> {
  const text = await readFile(path, 'utf8');
  try {
    return parseLogsourceMappingYaml(text);
  } catch (error) {
    if (error instanceof SigmaRuleError)
      throw new SigmaRuleError('sigma_rule_invalid', `${path}: ${error.message}`, error.path, undefined, {
        cause: error,
      });
    throw error;
  }
}

/** Every .yml/.yaml file under `path` (a file or a folder searched recursively), sorted. */
export async function listRuleFiles(path: string): Promise<string[]> {
  const info = await stat(path);
  if (info.isFile()) return [path];
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && /\.ya?ml$/i.test(entry.name)) out.push(full);
    }
  };
  await walk(path);
  return out.sort();
}

export interface LoadedRules {
  readonly set: RuleSet;
  /** Number of rule files read. */
  readonly files: number;
  /** Number of Sigma documents found (a file may hold several). */
  readonly documents: number;
  readonly failures: RuleFailure[];
  /** Documents left out for their status (see `LoadRulesOptions.statuses`). */
  readonly skippedByStatus: number;
}

/** The statuses a hunt runs by default: all but `deprecated` and `unsupported`, as Hayabusa does. */
export const DEFAULT_HUNT_STATUSES: readonly string[] = STATUSES.filter(
  (s) => s !== 'deprecated' && s !== 'unsupported',
);

export interface LoadRulesOptions {
  /**
   * Only documents of these statuses, and those that give none (a team's own rules often do not). A rule
   * that a kept correlation refers to is kept whatever its status: the correlation counts its matches.
   * Default: every document.
   */
  readonly statuses?: readonly string[];
}

/** The documents `statuses` keeps (see `LoadRulesOptions`). */
function byStatus(docs: readonly SourceDocument[], statuses: readonly string[]): SourceDocument[] {
  const wanted = new Set(statuses);
  const keep = ({ doc }: SourceDocument): boolean => doc.status === undefined || wanted.has(doc.status);
  const referenced = new Set<string>();
  for (const d of docs)
    if (d.doc.kind === 'correlation' && keep(d)) for (const r of d.doc.rules) referenced.add(r);
  const named = ({ doc }: SourceDocument): boolean =>
    (doc.id !== undefined && referenced.has(doc.id)) || (doc.name !== undefined && referenced.has(doc.name));
  return docs.filter((d) => keep(d) || named(d));
}

/** Reads rule files and folders, parses and compiles them; failures name the file and the reason. */
export async function loadRules(
  paths: readonly string[],
  mapping: LogsourceMapping,
  options: LoadRulesOptions = {},
): Promise<LoadedRules> {
  const files: string[] = [];
  for (const p of paths) files.push(...(await listRuleFiles(p)));
  const docs: SourceDocument[] = [];
  const failures: RuleFailure[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      failures.push({ file, reason: `cannot read: ${(error as Error).message}`, code: 'io_error' });
      continue;
    }
    try {
      for (const doc of parseSigmaYaml(text)) docs.push({ doc, file });
    } catch (error) {
      if (error instanceof SigmaRuleError)
        failures.push({ file, reason: error.message, code: error.code, feature: error.feature });
      else failures.push({ file, reason: (error as Error).message, code: 'internal_error' });
    }
  }
  const chosen = options.statuses === undefined ? docs : byStatus(docs, options.statuses);
  const built = buildRuleSet(chosen, mapping);
  return {
    set: built.set,
    skippedByStatus: docs.length - chosen.length,
    files: files.length,
    documents: docs.length + failures.length,
    failures: [...failures, ...built.failures],
  };
}

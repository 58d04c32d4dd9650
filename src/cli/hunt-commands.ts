import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { LEVELS, STATUSES, type Level } from '../detection/sigma-rule.js';
import { runHunt, type HuntMatch } from '../hunt/hunt.js';
import {
  formatCsvHeader,
  formatMatchCsv,
  formatMatchLine,
  formatMatchTable,
  formatSummary,
  formatValidation,
} from '../hunt/format.js';
import { expandHuntInputs, HuntInputError, LOG_EXTENSIONS, parseExtension } from '../hunt/inputs.js';
import { DEFAULT_HUNT_STATUSES, loadMapping, loadRules } from '../hunt/rule-loader.js';
import { parseWindowBound } from '../hunt/time-window.js';

/** Where the hunt commands write; injectable so tests run them in-process. */
export interface HuntCommandIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly setExitCode: (code: number) => void;
  /** True when stderr is a terminal (enables the progress bar). */
  readonly interactive?: boolean;
}

const defaultIo: HuntCommandIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  setExitCode: (code) => {
    process.exitCode = code;
  },
  interactive: process.stderr.isTTY === true,
};

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

interface HuntFlags {
  rules: string[];
  json?: boolean;
  csv?: boolean;
  minLevel?: Level;
  mapping?: string;
  threads?: number;
  extension?: string[];
  status?: string[];
  from?: number;
  to?: number;
}

const extension = (value: string, previous: string[] = []): string[] => {
  const ext = parseExtension(value);
  if (ext === null)
    throw new InvalidArgumentError('--extension: letters, digits, "_" or "-" after an optional dot');
  return [...previous, ext];
};

const windowBound =
  (end: 'from' | 'to') =>
  (value: string): number => {
    const ms = parseWindowBound(value, end);
    if (ms === null)
      throw new InvalidArgumentError(
        `--${end}: not a date or time: "${value}" (e.g. 2026-11-01, 2026-11-01T08:00:00Z or 2026-11-01T08:00+02:00)`,
      );
    return ms;
  };

const threadCount = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new InvalidArgumentError('--threads: must be a whole number from 1 to 256');
  return n;
};

/**
 * Below this much input a hunt stays on one thread: each worker compiles the rules again (about 2 s for
 * the whole SigmaHQ corpus), which only pays off on large inputs.
 */
const PARALLEL_FROM_BYTES = 64 << 20;

async function defaultThreads(inputs: readonly string[]): Promise<number> {
  let bytes = 0;
  for (const file of inputs) bytes += (await stat(file)).size;
  return bytes >= PARALLEL_FROM_BYTES ? Math.min(availableParallelism(), 16) : 1;
}

/** The files to hunt in (see `expandHuntInputs`), or null once the reason is said (exit status 2). */
async function huntInputs(
  paths: readonly string[],
  extensions: readonly string[],
  io: HuntCommandIo,
): Promise<readonly string[] | null> {
  try {
    const { files, emptyFolders } = await expandHuntInputs(paths, extensions);
    for (const folder of emptyFolders)
      io.err(`no log files in ${folder} (extensions: ${extensions.join(', ')})\n`);
    if (files.length === 0) throw new HuntInputError('no log files to search');
    return files;
  } catch (error) {
    if (!(error instanceof HuntInputError)) throw error;
    io.err(`${error.message}\n`);
    io.setExitCode(2);
    return null;
  }
}

/**
 * Adds `hunt INPUT... --rules PATH [--rules PATH ...] [--json] [--min-level L]` and
 * `rules validate PATH... [--json]` to a commander program.
 */
export function registerHuntCommands(program: Command, io: HuntCommandIo = defaultIo): void {
  program
    .command('hunt')
    .description(
      'run Sigma rules over log files: EVTX and JSON (NDJSON, arrays, concatenated documents), gzip or not',
    )
    .argument('<input...>', 'log files, or folders searched recursively for log files (see --extension)')
    .requiredOption('--rules <path>', 'a rule file or a folder searched recursively (repeatable)', collect)
    .option('--json', 'one match per line as JSON')
    .addOption(new Option('--csv', 'a CSV timeline, one match per row, in input order').conflicts('json'))
    .addOption(
      new Option('--min-level <level>', 'report only matches of this level or above').choices(LEVELS),
    )
    .addOption(
      new Option(
        '--status <status>',
        `run only rules of this status, and rules that give none (repeatable; default: ${DEFAULT_HUNT_STATUSES.join(', ')})`,
      )
        .choices(STATUSES) // for the help; the parser below checks them and collects repeats
        .argParser((value: string, previous: string[] = []) => {
          if (!(STATUSES as readonly string[]).includes(value))
            throw new InvalidArgumentError(`--status: one of ${STATUSES.join(', ')}`);
          return [...previous, value];
        }),
    )
    .option('--mapping <file>', 'log-source mapping YAML (default: the shipped config/logsources.yml)')
    .option(
      '--threads <n>',
      'worker threads decoding and matching the input (default: one per CPU from 64 MiB of input, else none)',
      threadCount,
    )
    .option(
      '--extension <ext>',
      `the files a folder is searched for (repeatable; default: ${LOG_EXTENSIONS.join(', ')})`,
      extension,
    )
    .option(
      '--from <time>',
      'skip events before this date or time (a time without a zone is UTC)',
      windowBound('from'),
    )
    .option(
      '--to <time>',
      'skip events after this date or time (a date alone: to its end)',
      windowBound('to'),
    )
    .action(async (paths: string[], flags: HuntFlags) => {
      if (flags.from !== undefined && flags.to !== undefined && flags.from > flags.to) {
        io.err('--from: is after --to\n');
        io.setExitCode(2);
        return;
      }
      const inputs = await huntInputs(paths, flags.extension ?? LOG_EXTENSIONS, io);
      if (inputs === null) return;
      const mapping = await loadMapping(flags.mapping);
      const statuses = flags.status ?? DEFAULT_HUNT_STATUSES;
      const loaded = await loadRules(flags.rules, mapping, { statuses });
      for (const f of loaded.failures) io.err(`skipped rule ${f.file}: ${f.reason}\n`);
      if (loaded.skippedByStatus > 0)
        io.err(
          `left out ${loaded.skippedByStatus} rules whose status is not ${statuses.join(', ')} (--status chooses)\n`,
        );
      if (loaded.set.rules.length === 0) {
        io.err('no rule could be loaded\n');
        io.setExitCode(2);
        return;
      }
      const table: HuntMatch[] = [];
      let lastBar = '';
      // JSON lines go out 64 KiB at a time: a write per match cost more than the matching.
      let lines = '';
      const flush = (): void => {
        if (lines !== '') io.out(lines);
        lines = '';
      };
      if (flags.csv) lines = formatCsvHeader();
      const hunting = runHunt(inputs, loaded.set, {
        minLevel: flags.minLevel,
        window:
          flags.from === undefined && flags.to === undefined
            ? undefined
            : { from: flags.from ?? -Infinity, to: flags.to ?? Infinity },
        threads: flags.threads ?? (await defaultThreads(inputs)),
        onMatch: (m) => {
          if (flags.json || flags.csv) {
            lines += flags.csv ? formatMatchCsv(m) : `${formatMatchLine(m)}\n`;
            if (lines.length >= 1 << 16) flush();
          } else {
            // The fields the table shows; the event's text is not kept beside its parsed value.
            const { rule_id, rule_title, level, file, record, timestamp, event } = m;
            table.push({ rule_id, rule_title, level, file, record, timestamp, event });
          }
        },
        onProgress:
          io.interactive === true
            ? (done, total) => {
                if (total < 16 << 20) return;
                const pct = Math.min(100, Math.floor((done / total) * 100));
                const bar = `\r[${'#'.repeat(pct >> 2).padEnd(25, '.')}] ${pct}%`;
                if (bar !== lastBar) io.err(bar);
                lastBar = bar;
                if (done >= total) io.err('\n');
              }
            : undefined,
      });
      // The matches found before an error (a malformed document) are written too.
      const summary = await hunting.finally(flush);
      if (flags.json || flags.csv) {
        io.err(formatSummary(summary));
      } else {
        io.out(formatMatchTable(table));
        io.out(formatSummary(summary));
      }
    });

  const rules =
    program.commands.find((c) => c.name() === 'rules') ??
    program.command('rules').description('detection rules');
  rules
    .command('validate')
    .description('compile Sigma rules and list every rule that cannot run, with the reason')
    .argument('<path...>', 'rule files or folders (searched recursively)')
    .option('--json', 'print {"total", "compiled", "failed": [{"file", "reason"}]}')
    .option('--mapping <file>', 'log-source mapping YAML (default: the shipped config/logsources.yml)')
    .action(async (paths: string[], flags: { json?: boolean; mapping?: string }) => {
      const mapping = await loadMapping(flags.mapping);
      const loaded = await loadRules(paths, mapping);
      const total = loaded.documents;
      const failed = loaded.failures.map((f) => ({ file: f.file, reason: f.reason }));
      const result = { total, compiled: total - failed.length, failed };
      io.out(flags.json ? `${JSON.stringify(result)}\n` : formatValidation(result));
      if (failed.length > 0) io.setExitCode(1);
    });
}

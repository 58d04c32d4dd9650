import { InvalidArgumentError, Option, type Command } from 'commander';
import { UserError } from '../core/errors.js';
import {
  DEFAULT_SERVER_URL,
  EventsClient,
  printable,
  type EventsClientOptions,
  type StoredEvent,
} from '../ingest/files/events-client.js';
import { FILE_FORMATS, type FileFormat } from '../ingest/files/detect-format.js';
import { ingestFiles, type IngestLineError, type IngestSummary } from '../ingest/files/ingest-files.js';

/** Where the ingest and events commands write; injectable so tests run them in-process. */
export interface IngestCommandIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly setExitCode: (code: number) => void;
  /** True when stderr is a terminal (enables the progress line). */
  readonly interactive?: boolean;
  /** Client settings for tests (a fake sleep, fewer retries). */
  readonly client?: Pick<EventsClientOptions, 'fetch' | 'sleep' | 'maxRetries' | 'timeoutMs'>;
  /** Current time in ms (for --from/--to durations and the summary). */
  readonly now?: () => number;
}

const defaultIo: IngestCommandIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  setExitCode: (code) => {
    process.exitCode = code;
  },
  interactive: process.stderr.isTTY === true,
};

interface ServerFlags {
  server: string;
  token?: string;
}

interface IngestFlags extends ServerFlags {
  format?: FileFormat;
  source?: string;
  batchSize: number;
  maxErrors: number;
  json?: boolean;
}

interface SearchFlags extends ServerFlags {
  q?: string;
  from?: string;
  to?: string;
  limit: number;
  json?: boolean;
}

function integer(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`an integer from ${min} to ${max}`);
    return n;
  };
}

function serverOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--server <url>', 'Firebreak server URL').env('FIREBREAK_URL').default(DEFAULT_SERVER_URL),
    )
    .addOption(new Option('--token <token>', 'API token of a responder or admin').env('FIREBREAK_TOKEN'));
}

const DURATION = /^(\d{1,9})([smhd])$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `--from`/`--to`: an ISO 8601 time, or a duration ago (`15m`, `24h`, `7d`) → ISO 8601 UTC. */
export function parseTimeFlag(flag: string, value: string, now: number): string {
  const duration = DURATION.exec(value);
  if (duration)
    return new Date(now - Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS]).toISOString();
  if (!/^\d{4}-\d\d-\d\d/.test(value) || Number.isNaN(Date.parse(value)))
    throw new UserError(
      'invalid_time',
      `${flag}: expected an ISO 8601 time (2025-01-31T12:00:00Z) or a duration ago (15m, 24h, 7d)`,
    );
  return new Date(value).toISOString();
}

function where(error: IngestLineError): string {
  if (error.line !== undefined) return `${error.file}:${error.line}`;
  if (error.record !== undefined) return `${error.file}: record ${error.record}`;
  return error.file;
}

/** The one-line summary of an ingest run. */
export function formatIngestSummary(summary: IngestSummary): string {
  const seconds = summary.elapsedMs / 1000;
  const rate = seconds > 0 ? Math.round(summary.sent / seconds) : summary.sent;
  const parts = [
    `${summary.files} file${summary.files === 1 ? '' : 's'}`,
    `${summary.sent} events sent`,
    `${summary.accepted} accepted`,
    `${summary.rejected} rejected`,
  ];
  if (summary.unreadable > 0) parts.push(`${summary.unreadable} unreadable (not sent)`);
  if (summary.filesFailed > 0)
    parts.push(`${summary.filesFailed} file${summary.filesFailed === 1 ? '' : 's'} failed`);
  return `${parts.join(', ')}; ${seconds.toFixed(1)} s, ${rate} events/s\n`;
}

function cut(text: string, width: number): string {
  return text.length <= width ? text.padEnd(width) : `${text.slice(0, width - 1)}…`;
}

function oneLine(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return printable(text.replace(/\s+/g, ' ').trim());
}

/** The header line of the events table. */
export const EVENT_TABLE_HEADER = `${'TIME'.padEnd(24)}  ${'SOURCE'.padEnd(16)}  ${'PARSER'.padEnd(10)}  ${'HOST'.padEnd(18)}  ${'USER'.padEnd(14)}  MESSAGE\n`;

/** One event as a table row: time, source, parser, host, user and the start of the message. */
export function formatEventRow(e: StoredEvent): string {
  const f = e.fields;
  const host = f['host.name'] ?? f['host.hostname'] ?? f['host.ip'];
  const user = f['user.name'] ?? f['source.user.name'];
  const message = f['message'] ?? e.raw;
  return `${[
    cut(oneLine(e.timestamp ?? e.received_at), 24),
    cut(oneLine(e.source.name ?? e.source.kind), 16),
    cut(oneLine(e.parser ?? '-'), 10),
    cut(oneLine(host ?? '-'), 18),
    cut(oneLine(user ?? '-'), 14),
    cut(oneLine(message), 100).trimEnd(),
  ].join('  ')}\n`;
}

/** JSON on one line with C1 control characters escaped too (JSON.stringify leaves them raw). */
function jsonLine(value: unknown): string {
  return `${JSON.stringify(value).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}

/**
 * Adds `ingest FILE... [--server URL] [--token T] [--format F] [--source NAME] [--batch-size N]` and
 * `events search [--q Q] [--from T] [--to T] [--limit N] [--json]` to a commander program.
 */
export function registerIngestCommands(program: Command, io: IngestCommandIo = defaultIo): void {
  const now = io.now ?? (() => Date.now());
  const client = (flags: ServerFlags): EventsClient =>
    new EventsClient({
      server: flags.server,
      token: flags.token ?? '',
      ...io.client,
      onRetry: (reason, delay) =>
        io.err(`${printable(reason)}; retrying in ${(delay / 1000).toFixed(1)} s\n`),
    });

  serverOptions(
    program
      .command('ingest')
      .description(
        'send log files to a Firebreak server (syslog, access logs, JSON, CSV, EVTX; .gz read transparently)',
      )
      .argument('<file...>', 'log files')
      .addOption(
        new Option(
          '--format <format>',
          'how to read the files and what to tell the server (default: detected)',
        ).choices(FILE_FORMATS),
      )
      .option('--source <name>', 'source name stored with the events (default: the file name)')
      .option('--batch-size <n>', 'events per request', integer(1, 100_000), 5000)
      .option('--max-errors <n>', 'line errors printed at most (all are counted)', integer(0, 1_000_000), 100)
      .option('--json', 'print the summary as JSON'),
  ).action(async (files: string[], flags: IngestFlags) => {
    const events = client(flags);
    let printed = 0;
    let progressShown = false;
    let lastProgress = 0;
    const clearProgress = (): void => {
      if (progressShown) io.err('\r\x1b[K');
      progressShown = false;
    };
    const report = (text: string): void => {
      clearProgress();
      io.err(text);
    };
    const summary = await ingestFiles(files, events, {
      format: flags.format,
      source: flags.source,
      batchSize: flags.batchSize,
      now,
      onFile: (file, plan) =>
        report(
          `${file}: reading as ${plan.layout === 'lines' ? 'text lines' : plan.layout}, format ${plan.format} (${plan.reason})\n`,
        ),
      onLineError: (error) => {
        if (printed++ < flags.maxErrors)
          report(`${where(error)}: ${printable(error.error)}${error.by === 'file' ? ' (not sent)' : ''}\n`);
      },
      onFileError: (file, message) => report(`${file}: ${printable(message)}\n`),
      onProgress:
        io.interactive === true
          ? (p) => {
              const t = now();
              if (t - lastProgress < 250) return;
              lastProgress = t;
              const pct = p.size > 0 ? ` (${Math.min(100, Math.floor((p.bytesRead / p.size) * 100))}%)` : '';
              io.err(`\r\x1b[K${p.file}: ${p.events} events read${pct}`);
              progressShown = true;
            }
          : undefined,
    });
    clearProgress();
    if (printed > flags.maxErrors) io.err(`... ${printed - flags.maxErrors} more line errors not shown\n`);
    if (summary.stopped) io.err(`firebreak: stopped: ${summary.stopped.message}\n`);
    if (flags.json) {
      io.out(
        jsonLine({
          files: summary.files,
          files_failed: summary.filesFailed,
          sent: summary.sent,
          accepted: summary.accepted,
          rejected: summary.rejected,
          unreadable: summary.unreadable,
          seconds: summary.elapsedMs / 1000,
          stopped: summary.stopped ? summary.stopped.message : null,
        }),
      );
    } else {
      io.out(formatIngestSummary(summary));
    }
    if (summary.stopped || summary.rejected > 0 || summary.unreadable > 0 || summary.filesFailed > 0)
      io.setExitCode(1);
  });

  const eventsCommand =
    program.commands.find((c) => c.name() === 'events') ??
    program.command('events').description('events stored on a Firebreak server');
  serverOptions(
    eventsCommand
      .command('search')
      .description('search events stored on the server (in the order it returns them)')
      .option(
        '--q <query>',
        'field:value terms (all must match; quote values with spaces); a bare word searches the text',
      )
      .option('--from <time>', 'ISO 8601 time or a duration ago (15m, 24h, 7d)')
      .option('--to <time>', 'ISO 8601 time or a duration ago')
      .option('--limit <n>', 'events to print at most', integer(1, 1_000_000), 100)
      .option('--json', 'one event per line as JSON'),
  ).action(async (flags: SearchFlags) => {
    const from = flags.from === undefined ? undefined : parseTimeFlag('--from', flags.from, now());
    const to = flags.to === undefined ? undefined : parseTimeFlag('--to', flags.to, now());
    let count = 0;
    for await (const event of client(flags).iterateEvents({ q: flags.q, from, to }, flags.limit)) {
      if (flags.json) io.out(jsonLine(event));
      else io.out(`${count === 0 ? EVENT_TABLE_HEADER : ''}${formatEventRow(event)}`);
      count++;
    }
    if (!flags.json && count === 0) io.out('no events\n');
  });
}

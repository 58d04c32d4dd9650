import { Command, CommanderError, Option } from 'commander';
import { systemActor } from '../core/actor.js';
import { isFirebreakError } from '../core/errors.js';
import { ROLES, type Role } from '../core/vocabulary.js';
import { describeProblem, verifyAuditChains } from '../services/audit.js';
import type { ServiceContext } from '../services/context.js';
import {
  createApiToken,
  createOrganization,
  createUser,
  ensureDefaultOrganization,
  findUserForCli,
} from '../services/identity.js';
import { migrateToLatest, openDatabase } from '../storage/database.js';
import { ConfigError, loadConfig, type ConfigInput } from '../server/config.js';
import { openContext } from '../server/context.js';
import { startServer } from '../server/server.js';
import { VERSION } from '../server/version.js';
import { registerHuntCommands } from './hunt-commands.js';
import { registerRuleCommands } from './rules-commands.js';
import { registerIngestCommands } from './ingest-commands.js';
import { readStdin } from './stdin.js';

/** Output streams, injectable so tests can run commands in-process. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly stdin: () => Promise<string>;
}

const defaultIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  stdin: readStdin,
};

interface StorageFlags {
  config?: string;
  dataDir?: string;
  databaseUrl?: string;
}

function storageOptions(command: Command): Command {
  return command
    .option('--config <file>', 'YAML file of settings (env FIREBREAK_CONFIG); flags and environment win')
    .option('--data-dir <dir>', 'where SQLite data lives (env FIREBREAK_DATA_DIR, default ./data)')
    .option('--database-url <url>', 'postgres:// URL to use PostgreSQL (env FIREBREAK_DATABASE_URL)');
}

function configFrom(flags: StorageFlags & ConfigInput): ReturnType<typeof loadConfig> {
  return loadConfig(flags);
}

async function withContext<T>(
  flags: StorageFlags,
  work: (context: ServiceContext) => Promise<T>,
): Promise<T> {
  const context = await openContext(configFrom(flags));
  try {
    await ensureDefaultOrganization(context);
    return await work(context);
  } finally {
    await context.database.close();
  }
}

/** Builds the `firebreak` command tree. */
export function buildProgram(
  io: CliIo = defaultIo,
  setExitCode: (code: number) => void = () => undefined,
): Command {
  const program = new Command('firebreak')
    .description('Firebreak: self-hosted incident response')
    .version(VERSION)
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();

  storageOptions(
    program
      .command('serve')
      .description('start the server (HTTP API; the embedded SQLite database by default)')
      .option('--port <port>', 'HTTP port (env FIREBREAK_PORT, default 8080)')
      .option('--host <host>', 'address to listen on (env FIREBREAK_HOST, default 127.0.0.1)')
      .option(
        '--syslog-port <port>',
        'syslog TCP and UDP port, 0 for none (env FIREBREAK_SYSLOG_PORT, default 5514)',
      )
      .option(
        '--syslog-tls-port <port>',
        'syslog over TLS port (env FIREBREAK_SYSLOG_TLS_PORT; needs key and cert)',
      ),
  ).action(
    async (
      flags: StorageFlags & { port?: string; host?: string; syslogPort?: string; syslogTlsPort?: string },
    ) => {
      const server = await startServer(configFrom(flags));
      // One plain line whatever the log level, so people and scripts know where to connect.
      io.err(
        `firebreak: listening on ${server.url} (${server.context.database.dialect}: ${server.context.database.location})\n`,
      );
      if (server.ingestion.syslogPorts) io.err(`firebreak: syslog on ${server.ingestion.syslogPorts}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          server.close().then(resolve, resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    },
  );

  storageOptions(program.command('migrate').description('apply pending database migrations'))
    .option('--json', 'print the result as JSON')
    .action(async (flags: StorageFlags & { json?: boolean }) => {
      const config = configFrom(flags);
      const database = openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
      try {
        const applied = await migrateToLatest(database);
        io.out(
          flags.json
            ? `${JSON.stringify({ applied, database: database.dialect })}\n`
            : applied.length
              ? `applied: ${applied.join(', ')}\n`
              : 'database is up to date\n',
        );
      } finally {
        await database.close();
      }
    });

  const user = program.command('user').description('manage users');
  storageOptions(
    user
      .command('create')
      .description('create a user in the default organisation (or --org)')
      .requiredOption('--email <email>', 'sign-in email')
      .addOption(new Option('--role <role>', 'role').choices(ROLES).makeOptionMandatory())
      .option('--name <name>', 'display name')
      .option('--org <slug>', 'organisation slug', 'default')
      .option('--password-stdin', 'read the password from standard input')
      .option('--json', 'print the user as JSON'),
  ).action(
    async (
      flags: StorageFlags & {
        email: string;
        role: Role;
        name?: string;
        org: string;
        passwordStdin?: boolean;
        json?: boolean;
      },
    ) => {
      const password = flags.passwordStdin ? (await io.stdin()).replace(/\r?\n$/, '') : undefined;
      await withContext(flags, async (context) => {
        const org = await orgBySlug(context, flags.org);
        const created = await createUser(context, systemActor(org), {
          email: flags.email,
          name: flags.name,
          role: flags.role,
          password,
        });
        io.out(
          flags.json
            ? `${JSON.stringify({ id: created.id, email: created.email, role: created.role })}\n`
            : `created ${created.role} ${created.email} (${created.id})\n`,
        );
      });
    },
  );

  const token = program.command('token').description('manage API tokens');
  storageOptions(
    token
      .command('create')
      .description('issue an API token for a user; prints the secret once on stdout')
      .requiredOption('--email <email>', "the token owner's email")
      .requiredOption('--name <name>', 'what the token is for')
      .option('--expires-at <iso>', 'expiry, ISO-8601')
      .option('--json', 'print the token as JSON'),
  ).action(
    async (flags: StorageFlags & { email: string; name: string; expiresAt?: string; json?: boolean }) => {
      await withContext(flags, async (context) => {
        const owner = await findUserForCli(context, flags.email);
        const expiresAt = flags.expiresAt ? new Date(flags.expiresAt) : undefined;
        if (expiresAt && Number.isNaN(expiresAt.getTime()))
          throw new Error('--expires-at must be an ISO-8601 date-time');
        const issued = await createApiToken(context, systemActor(owner.orgId), {
          userId: owner.id,
          name: flags.name,
          expiresAt: expiresAt?.toISOString(),
        });
        io.out(
          flags.json
            ? `${JSON.stringify({ id: issued.token.id, name: issued.token.name, token: issued.secret })}\n`
            : `${issued.secret}\n`,
        );
      });
    },
  );

  const org = program
    .command('org')
    .description('manage organisations (one per client for service providers)');
  storageOptions(
    org
      .command('create')
      .description('create an organisation')
      .requiredOption('--name <name>')
      .requiredOption('--slug <slug>')
      .option('--json'),
  ).action(async (flags: StorageFlags & { name: string; slug: string; json?: boolean }) => {
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(flags.slug))
      throw new Error('--slug: lower-case letters, digits and hyphens');
    await withContext(flags, async (context) => {
      const created = await createOrganization(context, flags.name, flags.slug);
      io.out(
        flags.json
          ? `${JSON.stringify({ id: created.id, slug: created.slug })}\n`
          : `created organisation ${created.slug} (${created.id})\n`,
      );
    });
  });

  const audit = program.command('audit').description('the audit trail');
  storageOptions(
    audit
      .command('verify')
      .description('recompute every hash chain; exit 1 naming the first bad record')
      .option('--json'),
  ).action(async (flags: StorageFlags & { json?: boolean }) => {
    await withContext(flags, async (context) => {
      const reports = await verifyAuditChains(context);
      const bad = reports.filter((r) => r.problem);
      if (flags.json) {
        io.out(
          `${JSON.stringify({
            ok: bad.length === 0,
            organizations: reports.map((r) => ({
              id: r.orgId,
              slug: r.orgSlug,
              records: r.records,
              head_seq: r.headSeq,
              problem: r.problem
                ? {
                    kind: r.problem.kind,
                    message: describeProblem(r.problem),
                    record_id: 'entry' in r.problem ? r.problem.entry.id : null,
                    seq: 'entry' in r.problem ? r.problem.entry.seq : null,
                  }
                : null,
            })),
          })}\n`,
        );
      } else {
        for (const r of reports) {
          io.out(
            r.problem
              ? `FAIL ${r.orgSlug}: ${describeProblem(r.problem)}\n`
              : `ok   ${r.orgSlug}: ${r.records} records, head seq ${r.headSeq}\n`,
          );
        }
      }
      if (bad.length) setExitCode(1);
    });
  });

  registerHuntCommands(program, {
    out: io.out,
    err: io.err,
    setExitCode,
    interactive: process.stderr.isTTY === true,
  });
  registerRuleCommands(program, { out: io.out, err: io.err, setExitCode });
  registerIngestCommands(program, { ...io, setExitCode, interactive: process.stderr.isTTY === true });
  return program;
}

async function orgBySlug(context: ServiceContext, slug: string): Promise<string> {
  const row = await context.database.db
    .selectFrom('organizations')
    .select('id')
    .where('slug', '=', slug)
    .executeTakeFirst();
  if (!row) throw new Error(`no organisation with slug ${slug}`);
  return row.id;
}

/** Runs the CLI; resolves to the exit code. Errors become one clear line on stderr. */
export async function runCli(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv]);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof ConfigError) {
      io.err(`firebreak: ${error.message}\n`);
      return 2;
    }
    io.err(
      `firebreak: ${isFirebreakError(error) ? `${error.message} (${error.code})` : error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
}

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { systemActor } from '../core/actor.js';
import { FailureRateLimiter } from '../core/rate-limiter.js';
import { buildApi } from '../api/app.js';
import type { ServiceContext } from '../services/context.js';
import { installBuiltinRules } from '../services/builtin-rules.js';
import { createUser, ensureDefaultOrganization, hasAnyUser } from '../services/identity.js';
import { randomSecret } from '../services/passwords.js';
import { deleteExpiredSessions } from '../storage/identity-repository.js';
import { nodeOptionsOf, type Config } from './config.js';
import { openContext, withChangeFeed } from './context.js';
import { createMetrics } from './metrics.js';
import { startIngestion, type Ingestion } from './ingestion.js';
import { youngGenerationHint } from './runtime-hints.js';
import { VERSION } from './version.js';

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly context: ServiceContext;
  readonly url: string;
  readonly ingestion: Ingestion;
  close(): Promise<void>;
}

/** Where the generated first admin password is written (mode 0600), never to the log. */
export function initialPasswordFile(config: Pick<Config, 'dataDir'>): string {
  return path.join(config.dataDir, 'initial-admin-password');
}

/**
 * First start: the default organisation and, when no user exists, an administrator. The password is
 * FIREBREAK_ADMIN_PASSWORD or a random one written to DATA_DIR/initial-admin-password.
 */
export async function bootstrap(
  context: ServiceContext,
  config: Config,
  log: (message: string) => void,
): Promise<void> {
  const org = await ensureDefaultOrganization(context);
  if (await hasAnyUser(context)) return;
  // First start: the organisation gets Firebreak's own rules, enabled (later starts leave rules alone,
  // so a rule an administrator deleted stays deleted).
  const installed = await installBuiltinRules(context, org.id);
  const refused = installed.filter((result) => result.status === 'failed');
  log(`installed ${installed.length - refused.length} built-in detection rules`);
  for (const result of refused) log(`built-in rule not installed: ${JSON.stringify(result)}`);
  const password = config.adminPassword ?? randomSecret(18);
  await createUser(context, systemActor(org.id), {
    email: config.adminEmail,
    name: 'Administrator',
    role: 'admin',
    password,
  });
  if (config.adminPassword) {
    log(
      `created the first administrator ${config.adminEmail} with the password from FIREBREAK_ADMIN_PASSWORD`,
    );
  } else {
    const file = initialPasswordFile(config);
    await writeFile(file, `${password}\n`, { mode: 0o600 });
    log(
      `created the first administrator ${config.adminEmail}; the password is in ${file} (delete it after signing in)`,
    );
  }
}

/** The composition root: database, services, HTTP API, timers. Resolves once listening. */
export async function startServer(config: Config): Promise<RunningServer> {
  // A long-running server checkpoints SQLite's log in the background (see wal-checkpointer.ts).
  const opened = await openContext(config, undefined, { backgroundCheckpoints: true });
  let reportFeedError: (error: unknown) => void = () => undefined;
  const withFeed = await withChangeFeed(opened, config.databaseUrl, (error) => reportFeedError(error));
  let log: Pick<FastifyInstance['log'], 'warn'> = { warn: () => undefined };
  const ingestion = await startIngestion(withFeed, config, {
    log: { warn: (details, message) => log.warn(details, message) },
  });
  const context = ingestion.context;
  const app = await buildApi({
    context,
    throttle: {
      account: new FailureRateLimiter(
        context.clock,
        config.loginMaxFailures,
        config.loginWindowMinutes * 60_000,
      ),
      address: new FailureRateLimiter(
        context.clock,
        config.loginMaxFailuresPerAddress,
        config.loginWindowMinutes * 60_000,
      ),
    },
    policy: { idleMinutes: config.sessionIdleMinutes, maxHours: config.sessionMaxHours },
    secureCookies: config.secureCookies,
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    version: VERSION,
    // Collected only when someone may scrape them.
    metrics: config.metricsToken ? { source: createMetrics(ingestion), token: config.metricsToken } : {},
    logger:
      config.logLevel === 'silent'
        ? false
        : { level: config.logLevel, redact: ['req.headers.authorization', 'req.headers.cookie'] },
  });
  log = app.log;
  reportFeedError = (error) =>
    app.log.warn({ err: error }, 'change feed from PostgreSQL interrupted; reconnecting');
  await bootstrap(context, config, (message) => app.log.info(message));
  const sweep = setInterval(() => {
    deleteExpiredSessions(context.database.db, context.clock.now().toISOString()).catch((error: unknown) =>
      app.log.warn({ err: error }, 'could not delete expired sessions'),
    );
  }, 3_600_000);
  sweep.unref();
  const address = await app.listen({ port: config.port, host: config.host });
  app.log.info(
    `Firebreak ${VERSION} on ${address} (${context.database.dialect}: ${context.database.location})`,
  );
  if (ingestion.syslogPorts) app.log.info(`syslog listening: ${ingestion.syslogPorts}`);
  const hint = youngGenerationHint(process.execArgv, nodeOptionsOf());
  if (hint) app.log.info(hint);
  return {
    app,
    context,
    url: address,
    ingestion,
    close: async () => {
      clearInterval(sweep);
      await app.close();
      await ingestion.close();
      await context.database.close();
    },
  };
}

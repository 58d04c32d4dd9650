import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/**
 * The one configuration object. Each key has a default, an environment variable and a doc line;
 * command-line flags override the environment. Nothing else reads `process.env`.
 */
const ConfigSchema = z.strictObject({
  /** TCP port of the HTTP server (FIREBREAK_PORT). */
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Address to listen on (FIREBREAK_HOST); 127.0.0.1 keeps it local until you put TLS in front. */
  host: z.string().min(1).default('127.0.0.1'),
  /** Where SQLite data and the initial admin password live (FIREBREAK_DATA_DIR). */
  dataDir: z.string().min(1).default('./data'),
  /** `postgres://user@host/db` to use PostgreSQL instead of SQLite (FIREBREAK_DATABASE_URL). */
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  /** Log level: fatal, error, warn, info, debug, trace, silent (FIREBREAK_LOG_LEVEL). */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Largest request body accepted, in bytes (FIREBREAK_BODY_LIMIT). */
  bodyLimit: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** Minutes of inactivity after which a session ends (FIREBREAK_SESSION_IDLE_MINUTES). */
  sessionIdleMinutes: z.coerce.number().int().min(1).default(720),
  /** Hours after which a session ends however active (FIREBREAK_SESSION_MAX_HOURS). */
  sessionMaxHours: z.coerce.number().int().min(1).default(168),
  /** Mark cookies Secure; turn on behind HTTPS (FIREBREAK_SECURE_COOKIES). */
  secureCookies: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** Trust X-Forwarded-For from a reverse proxy for client addresses (FIREBREAK_TRUST_PROXY). */
  trustProxy: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** Failed sign-ins allowed per account within the window before it is locked (FIREBREAK_LOGIN_MAX_FAILURES). */
  loginMaxFailures: z.coerce.number().int().min(1).default(10),
  /** Failed sign-ins allowed per client address within the window (FIREBREAK_LOGIN_MAX_FAILURES_PER_ADDRESS). */
  loginMaxFailuresPerAddress: z.coerce.number().int().min(1).default(50),
  /** Length of the sign-in failure window in minutes (FIREBREAK_LOGIN_WINDOW_MINUTES). */
  loginWindowMinutes: z.coerce.number().int().min(1).default(15),
  /** Email of the first administrator, created at first start (FIREBREAK_ADMIN_EMAIL). */
  adminEmail: z.string().email().default('admin@firebreak.local'),
  /** Password of the first administrator; random and written to DATA_DIR when unset (FIREBREAK_ADMIN_PASSWORD). */
  adminPassword: z.string().min(12).optional(),
  /** Syslog over TCP and UDP on this port; 0 turns it off (FIREBREAK_SYSLOG_PORT). */
  syslogPort: z.coerce.number().int().min(0).max(65535).default(5514),
  /** Address the syslog listeners bind (FIREBREAK_SYSLOG_HOST); defaults to `host`. */
  syslogHost: z.string().min(1).optional(),
  /** Syslog over TLS (RFC 5425) on this port; needs the key and certificate below (FIREBREAK_SYSLOG_TLS_PORT). */
  syslogTlsPort: z.coerce.number().int().min(1).max(65535).optional(),
  /** PEM private key file for syslog TLS (FIREBREAK_SYSLOG_TLS_KEY). */
  syslogTlsKey: z.string().min(1).optional(),
  /** PEM certificate (chain) file for syslog TLS (FIREBREAK_SYSLOG_TLS_CERT). */
  syslogTlsCert: z.string().min(1).optional(),
  /** PEM file of the CAs whose client certificates syslog TLS requires: mutual TLS (FIREBREAK_SYSLOG_TLS_CA). */
  syslogTlsCa: z.string().min(1).optional(),
  /** Close a syslog TCP/TLS connection quiet for this long; senders reconnect (FIREBREAK_SYSLOG_IDLE_SECONDS, 0 = never). */
  syslogIdleSeconds: z.coerce.number().int().min(0).default(900),
  /** Organisation slug that syslog events belong to (FIREBREAK_SYSLOG_ORG); the default organisation when unset. */
  syslogOrg: z.string().min(1).optional(),
  /** Days received events are kept (FIREBREAK_EVENT_RETENTION_DAYS). */
  eventRetentionDays: z.coerce.number().min(0.01).default(7),
  /** Bytes of received, not yet processed events the spool holds before senders are told to wait (FIREBREAK_SPOOL_MAX_BYTES). */
  spoolMaxBytes: z.coerce
    .number()
    .int()
    .min(1024 * 1024)
    .default(256 * 1024 * 1024),
  /** Secret that opens GET /metrics (Prometheus: `authorization: credentials`); unset, /metrics is off (FIREBREAK_METRICS_TOKEN). */
  metricsToken: z.string().min(16, 'at least 16 characters').optional(),
  /** Parse and detect events in a worker thread beside the one that stores them (FIREBREAK_INGEST_WORKER: on|off). */
  ingestWorker: z
    .union([z.boolean(), z.enum(['on', 'off', 'true', 'false', '1', '0'])])
    .default(true)
    .transform((v) => v === true || v === 'on' || v === 'true' || v === '1'),
});

export type Config = Readonly<z.output<typeof ConfigSchema>>;
export type ConfigInput = Partial<Record<keyof z.input<typeof ConfigSchema>, string | number | undefined>>;

const ENV_NAMES: Record<keyof Config, string> = {
  port: 'FIREBREAK_PORT',
  host: 'FIREBREAK_HOST',
  dataDir: 'FIREBREAK_DATA_DIR',
  databaseUrl: 'FIREBREAK_DATABASE_URL',
  logLevel: 'FIREBREAK_LOG_LEVEL',
  bodyLimit: 'FIREBREAK_BODY_LIMIT',
  sessionIdleMinutes: 'FIREBREAK_SESSION_IDLE_MINUTES',
  sessionMaxHours: 'FIREBREAK_SESSION_MAX_HOURS',
  secureCookies: 'FIREBREAK_SECURE_COOKIES',
  trustProxy: 'FIREBREAK_TRUST_PROXY',
  loginMaxFailures: 'FIREBREAK_LOGIN_MAX_FAILURES',
  loginMaxFailuresPerAddress: 'FIREBREAK_LOGIN_MAX_FAILURES_PER_ADDRESS',
  loginWindowMinutes: 'FIREBREAK_LOGIN_WINDOW_MINUTES',
  adminEmail: 'FIREBREAK_ADMIN_EMAIL',
  adminPassword: 'FIREBREAK_ADMIN_PASSWORD',
  syslogPort: 'FIREBREAK_SYSLOG_PORT',
  syslogHost: 'FIREBREAK_SYSLOG_HOST',
  syslogTlsPort: 'FIREBREAK_SYSLOG_TLS_PORT',
  syslogTlsKey: 'FIREBREAK_SYSLOG_TLS_KEY',
  syslogTlsCert: 'FIREBREAK_SYSLOG_TLS_CERT',
  syslogTlsCa: 'FIREBREAK_SYSLOG_TLS_CA',
  syslogIdleSeconds: 'FIREBREAK_SYSLOG_IDLE_SECONDS',
  syslogOrg: 'FIREBREAK_SYSLOG_ORG',
  eventRetentionDays: 'FIREBREAK_EVENT_RETENTION_DAYS',
  spoolMaxBytes: 'FIREBREAK_SPOOL_MAX_BYTES',
  ingestWorker: 'FIREBREAK_INGEST_WORKER',
  metricsToken: 'FIREBREAK_METRICS_TOKEN',
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * Reads an optional YAML (or JSON) file of settings with the snake_case names of the table in the
 * README (`port`, `data_dir`, `database_url`, ...). Unknown keys are errors, so a typo is not silently
 * ignored.
 */
function readConfigFile(file: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError([`config file ${file}: ${error instanceof Error ? error.message : String(error)}`]);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError([`config file ${file}: expected a mapping of settings`]);
  }
  const byName = new Map(Object.keys(ENV_NAMES).map((key) => [snakeCase(key), key]));
  const values: Record<string, string> = {};
  const problems: string[] = [];
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    const key = byName.get(name);
    if (!key) problems.push(`config file ${file}: unknown setting "${name}"`);
    else if (['string', 'number', 'boolean'].includes(typeof value)) values[key] = String(value);
    else problems.push(`config file ${file}: ${name} must be a string, number or boolean`);
  }
  if (problems.length) throw new ConfigError(problems);
  return values;
}

/**
 * Builds the frozen configuration from flags (highest precedence), then the environment, then the
 * optional config file (`--config` or FIREBREAK_CONFIG), then defaults. Throws ConfigError listing
 * every problem, each with the variable to fix.
 */
export function loadConfig(
  flags: ConfigInput & { config?: string | undefined } = {},
  env: NodeJS.ProcessEnv = process.env,
): Config {
  const configFile = flags.config ?? (env.FIREBREAK_CONFIG || undefined);
  const fromFile = configFile ? readConfigFile(configFile) : {};
  const merged: Record<string, unknown> = {};
  for (const [key, envName] of Object.entries(ENV_NAMES)) {
    const fromFlag = flags[key as keyof ConfigInput];
    const fromEnv = env[envName];
    const value = fromFlag ?? (fromEnv === '' ? undefined : fromEnv) ?? fromFile[key];
    if (value !== undefined) merged[key] = value;
  }
  const parsed = ConfigSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = String(issue.path[0] ?? '');
        const envName = ENV_NAMES[key as keyof Config];
        return `${key}${envName ? ` (${envName})` : ''}: ${issue.message}`;
      }),
    );
  }
  const config = parsed.data;
  if (config.syslogTlsPort !== undefined && (!config.syslogTlsKey || !config.syslogTlsCert)) {
    throw new ConfigError([
      'syslogTlsPort (FIREBREAK_SYSLOG_TLS_PORT): needs syslogTlsKey (FIREBREAK_SYSLOG_TLS_KEY) and syslogTlsCert (FIREBREAK_SYSLOG_TLS_CERT)',
    ]);
  }
  return Object.freeze({ ...config, dataDir: path.resolve(config.dataDir) });
}

/** NODE_OPTIONS as the process was started with (not configuration: read for start-up advice). */
export function nodeOptionsOf(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.NODE_OPTIONS;
}

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { uuidv7 } from 'uuidv7';
import { systemActor, type Actor } from '../../src/core/actor.js';
import { ManualClock } from '../../src/core/clock.js';
import { FailureRateLimiter } from '../../src/core/rate-limiter.js';
import type { User } from '../../src/core/model.js';
import type { Role } from '../../src/core/vocabulary.js';
import { buildApi } from '../../src/api/app.js';
import { sha256Hex, type DomainEventListener, type ServiceContext } from '../../src/services/context.js';
import {
  actorForUser,
  createApiToken,
  createOrganization,
  createUser,
  ensureDefaultOrganization,
} from '../../src/services/identity.js';
import { migrateToLatest, openDatabase } from '../../src/storage/database.js';
import { withChangeFeed } from '../../src/server/context.js';
import { InlineBatchProcessor, WorkerBatchProcessor } from '../../src/ingest/batch-processor.js';
import { IngestPipeline, type DetectionStage } from '../../src/ingest/pipeline.js';
import { RuleDetectionStage } from '../../src/ingest/rule-detection-stage.js';
import { openFileSpool, spoolIntake, type FileSpool } from '../../src/ingest/spool/index.js';
import type { Engine, TestDatabase } from './engines.js';
import { ledgerFor } from '../../src/ingest/submission-ledger.js';

export const PASSWORD = 'correct horse battery staple';

export interface TestEnv {
  readonly context: ServiceContext;
  readonly clock: ManualClock;
  readonly db: TestDatabase;
  readonly orgId: string;
  readonly admin: Actor;
  readonly responder: Actor;
  readonly viewer: Actor;
  readonly users: Record<'admin' | 'responder' | 'viewer', User>;
  close(): Promise<void>;
}

/** A migrated database on `engine`, the default organisation, and one user per role. */
export async function createTestEnv(engine: Engine): Promise<TestEnv> {
  const db = await engine.create();
  const database = openDatabase({ dataDir: db.dataDir, databaseUrl: db.databaseUrl });
  await migrateToLatest(database);
  const clock = new ManualClock('2026-03-01T09:00:00.000Z');
  const context = await withChangeFeed(
    {
      database,
      clock,
      newId: uuidv7,
      sha256: sha256Hex,
      listeners: new Set<DomainEventListener>(),
      instanceId: crypto.randomUUID(),
    },
    db.databaseUrl,
    (error) => {
      throw error;
    },
  );
  const org = await ensureDefaultOrganization(context);
  const system = systemActor(org.id);
  const make = (role: Role) =>
    createUser(context, system, { email: `${role}@example.test`, name: role, role, password: PASSWORD });
  const users = {
    admin: await make('admin'),
    responder: await make('responder'),
    viewer: await make('viewer'),
  };
  return {
    context,
    clock,
    db,
    orgId: org.id,
    admin: actorForUser(users.admin),
    responder: actorForUser(users.responder),
    viewer: actorForUser(users.viewer),
    users,
    close: async () => {
      await context.database.close();
      await db.drop();
    },
  };
}

/** A second organisation with its own responder, for isolation tests. */
export async function createOtherOrg(env: TestEnv): Promise<{ orgId: string; responder: Actor }> {
  const org = await createOrganization(
    env.context,
    'Other client',
    `other-${Math.random().toString(36).slice(2, 8)}`,
  );
  const user = await createUser(env.context, systemActor(org.id), {
    email: `responder@${org.slug}.test`,
    role: 'responder',
    password: PASSWORD,
  });
  return { orgId: org.id, responder: actorForUser(user) };
}

export interface ApiEnv extends TestEnv {
  readonly app: FastifyInstance;
  readonly tokens: Record<'admin' | 'responder' | 'viewer', string>;
  /** Calls the API with a role's bearer token (or none). */
  call(
    role: 'admin' | 'responder' | 'viewer' | null,
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>;
}

/** The event path of a test server: a real spool in a temp dir and the pipeline behind it. */
export interface TestIngestion {
  readonly spool: FileSpool;
  readonly pipeline: IngestPipeline;
  /** Resolves once the pipeline has processed everything spooled so far. */
  drain(): Promise<void>;
}

export async function createApiEnv(
  engine: Engine,
  options: {
    bodyLimit?: number;
    /** `worker`: the pipeline's batch processor in a worker thread, as the server runs it (default inline). */
    ingestion?: { detection?: DetectionStage; spoolMaxBytes?: number; worker?: boolean };
  } = {},
): Promise<ApiEnv & { ingestion: TestIngestion | null }> {
  const base = await createTestEnv(engine);
  let ingestion: TestIngestion | null = null;
  let stopIngestion = async () => undefined as void;
  let env: TestEnv = base;
  if (options.ingestion) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'firebreak-spool-'));
    const spool = await openFileSpool({
      directory: dir,
      ...(options.ingestion.spoolMaxBytes ? { backlogLimitBytes: options.ingestion.spoolMaxBytes } : {}),
    });
    const context = { ...base.context, intake: spoolIntake(spool) };
    const processor = options.ingestion.worker ? new WorkerBatchProcessor() : new InlineBatchProcessor();
    const pipeline = new IngestPipeline(context, spool, {
      processor,
      detection: options.ingestion.detection ?? new RuleDetectionStage(context),
      batchSize: 500,
    });
    pipeline.start();
    const submissions = ledgerFor(base.context.database.db, spool, pipeline);
    env = { ...base, context: { ...context, submissions } };
    ingestion = {
      spool,
      pipeline,
      drain: () => pipeline.drained(spool.stats().lastPosition),
    };
    stopIngestion = async () => {
      await pipeline.stop();
      await processor.close();
      await spool.close();
      await rm(dir, { recursive: true, force: true });
    };
  }
  const app = await buildApi({
    context: env.context,
    throttle: {
      account: new FailureRateLimiter(env.clock, 5, 15 * 60_000),
      address: new FailureRateLimiter(env.clock, 8, 15 * 60_000),
    },
    policy: { idleMinutes: 60, maxHours: 24 },
    secureCookies: false,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    trustProxy: false,
    version: 'test',
  });
  const issue = async (role: 'admin' | 'responder' | 'viewer') =>
    (await createApiToken(env.context, env[role], { userId: env.users[role].id, name: `${role} test token` }))
      .secret;
  const tokens = {
    admin: await issue('admin'),
    responder: await issue('responder'),
    viewer: await issue('viewer'),
  };
  return {
    ...env,
    ingestion,
    app,
    tokens,
    call: (role, method, url, body, headers = {}) =>
      app.inject({
        method,
        url,
        headers: { ...(role ? { authorization: `Bearer ${tokens[role]}` } : {}), ...headers },
        ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
      }),
    close: async () => {
      await app.close();
      await stopIngestion();
      await env.close();
    },
  };
}

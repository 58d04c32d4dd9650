import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../src/services/context.js';
import { ingestAlert, promoteAlert } from '../../src/services/alerts.js';
import { createIncident } from '../../src/services/incidents.js';
import { openContext, withChangeFeed } from '../../src/server/context.js';
import type { ServiceContext } from '../../src/services/context.js';
import { announceSkips, ENGINES } from '../support/engines.js';
import { createTestEnv, type TestEnv } from '../support/harness.js';

announceSkips();

const postgres = ENGINES.find((engine) => engine.name === 'postgres')!;

describe.skipIf(postgres.skipReason !== null)(
  postgres.skipReason ?? 'change feed between processes on PostgreSQL',
  () => {
    let env: TestEnv;
    let second: ServiceContext;
    beforeAll(async () => {
      env = await createTestEnv(postgres);
      // A second server process on the same database, as when several instances share the load.
      second = await withChangeFeed(
        await openContext({ dataDir: env.db.dataDir, databaseUrl: env.db.databaseUrl }),
        env.db.databaseUrl,
        (error) => {
          throw error;
        },
      );
    });
    afterAll(async () => {
      await second?.database.close();
      await env?.close();
    });

    it("delivers each committed change once to every process, the writer's own listeners included", async () => {
      const heardHere: DomainEvent[] = [];
      const heardThere: DomainEvent[] = [];
      env.context.listeners.add((event) => heardHere.push(event));
      second.listeners.add((event) => heardThere.push(event));
      const incident = await createIncident(env.context, env.responder, {
        title: 'Seen everywhere',
        severity: 'high',
      });
      await expect.poll(() => heardThere.length, { timeout: 5000 }).toBe(1);
      expect(heardThere[0]).toMatchObject({
        orgId: env.orgId,
        action: 'incident.created',
        targetId: incident.id,
        incidentId: incident.id,
      });
      expect(heardThere[0]).not.toHaveProperty('origin');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(heardHere.map((e) => e.targetId)).toEqual([incident.id]);
    });

    it('announces nothing for a transaction that rolls back after writing its audit record', async () => {
      const heard: DomainEvent[] = [];
      second.listeners.add((event) => heard.push(event));
      const { alert } = await ingestAlert(env.context, env.responder, {
        title: 'a',
        severity: 'low',
        source: 's',
      });
      // Let the alert's own notice arrive first, so only what follows is counted.
      await expect.poll(() => heard.some((e) => e.targetId === alert.id), { timeout: 5000 }).toBe(true);
      heard.length = 0;
      // Opens the incident (audited, notice queued), then fails on the unknown second alert: all rolled back.
      await expect(
        promoteAlert(env.context, env.responder, alert.id, {
          alertIds: ['01900000-0000-7000-8000-000000000000'],
        }),
      ).rejects.toThrow('not found');
      await createIncident(env.context, env.responder, { title: 'marker', severity: 'low' });
      await expect.poll(() => heard.length, { timeout: 5000 }).toBe(1);
      expect(heard[0]).toMatchObject({ action: 'incident.created' });
      expect((await promoteAlert(env.context, env.responder, alert.id)).title).toBe('a');
    });
  },
);

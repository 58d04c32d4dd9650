import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { uuidv7Floor } from '../../src/core/ids.js';
import type { ReceivedEvent } from '../../src/ingest/event-record.js';
import { loadConfig } from '../../src/server/config.js';
import { startIngestion, type Ingestion } from '../../src/server/ingestion.js';
import { searchEvents } from '../../src/services/events.js';
import { announceSkips, ENGINES } from '../support/engines.js';
import { createTestEnv, type TestEnv } from '../support/harness.js';

announceSkips();

/** An id as if minted at `ms` (ids are UUIDv7: their first 48 bits are the receive time). */
const idAt = (ms: number, n: number) => `${uuidv7Floor(ms).slice(0, -4)}${String(n).padStart(4, '0')}`;

for (const engine of ENGINES) {
  describe.skipIf(engine.skipReason !== null)(engine.skipReason ?? `event retention on ${engine.name}`, () => {
    let env: TestEnv | undefined;
    let ingestion: Ingestion | undefined;
    let dir: string | undefined;
    afterEach(async () => {
      await ingestion?.close();
      await env?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('deletes events received before the retention period and keeps the rest', async () => {
      env = await createTestEnv(engine);
      dir = await mkdtemp(path.join(os.tmpdir(), 'firebreak-retention-'));
      const config = loadConfig({ dataDir: dir, syslogPort: 0, eventRetentionDays: 2 }, {});
      ingestion = await startIngestion(env.context, config, { log: { warn: () => undefined } });
      const now = env.clock.now().getTime();
      const event = (id: string): ReceivedEvent => ({
        id,
        orgId: env!.orgId,
        receivedAt: new Date(now).toISOString(),
        source: { kind: 'http' },
        format: 'auto',
        raw: `event ${id}`,
      });
      const old = [1, 2, 3].map((n) => event(idAt(now - 3 * 86_400_000, n)));
      const recent = [4, 5].map((n) => event(idAt(now - 86_400_000, n)));
      const receipt = await ingestion.spool.append([...old, ...recent]);
      await ingestion.pipeline.drained(receipt.lastPosition);
      expect(await ingestion.purgeExpired()).toBe(3);
      const left = await searchEvents(env.context, env.viewer, { limit: 100 });
      expect(left.items.map((e) => e.id).sort()).toEqual(recent.map((e) => e.id).sort());
      expect(await ingestion.purgeExpired()).toBe(0);
    });
  });
}

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
/**
 * The pipeline's batch processor in a real worker thread against the same core on the calling thread:
 * same rows, sightings and detections; the refusal protocol that keeps batches in order when an
 * organisation's rules are missing; and a new worker after the old one died.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BatchRequest, DetectionInputs, OrgDetectionSetup } from '../../src/ingest/batch-core.js';
import {
  InlineBatchProcessor,
  WorkerBatchProcessor,
  type BatchProcessor,
} from '../../src/ingest/batch-processor.js';
import type { ReceivedEvent } from '../../src/ingest/event-record.js';
import { ruleMapping } from '../../src/services/rules.js';

const ORG = '01937a5e-0000-7000-8000-000000000001';
const OTHER = '01937a5e-0000-7000-8000-000000000002';

const RULE = `
title: Root login over SSH
id: 5b0f6c1e-4a55-4e8e-9d33-4c1f7d3b2a10
status: test
logsource:
  product: linux
detection:
  selection:
    event.action: ssh_login
    event.outcome: success
    user.name: root
  condition: selection
level: high
`;

let position = 0;
function record(orgId: string, line: string): { position: number; text: string } {
  position += 1;
  const event: ReceivedEvent = {
    id: `01937a5e-0000-7000-8000-${String(position).padStart(12, '0')}`,
    orgId,
    receivedAt: '2026-11-27T04:00:00.000Z',
    source: { kind: 'syslog', name: 'tcp', peer: '192.0.2.10' },
    format: 'syslog',
    raw: line,
  };
  return { position, text: JSON.stringify(event) };
}

async function setup(orgId: string): Promise<OrgDetectionSetup> {
  return {
    orgId,
    key: 'k1',
    rules: [{ id: 'r1', yaml: RULE, levelOverride: null }],
    mapping: await ruleMapping(),
    state: null,
  };
}

const lines = [
  '<38>Nov 27 04:00:01 web1 sshd[101]: Accepted password for root from 203.0.113.9 port 50000 ssh2',
  '<38>Nov 27 04:00:02 web1 sshd[102]: Failed password for alice from 203.0.113.10 port 50001 ssh2',
  'not a syslog line at all',
];

const open: BatchProcessor[] = [];
afterEach(async () => {
  for (const p of open.splice(0)) await p.close();
});

describe('batch processor', () => {
  it('gives the same rows, sightings and detections in a worker thread as on the calling thread', async () => {
    const inputs: DetectionInputs = { setups: [await setup(ORG)], suppressions: {} };
    const records = lines.map((line) => record(ORG, line));
    const request: BatchRequest = { records, mode: 'live', detection: inputs, exportState: true };
    const inline = new InlineBatchProcessor();
    const worker = new WorkerBatchProcessor();
    open.push(inline, worker);
    const here = await inline.process(request);
    const there = await worker.process(request);
    expect(there).toEqual(here);
    expect(there.refused).toBe(false);
    expect(there.rows.map((r) => r.parser)).toEqual(['openssh', 'openssh', 'raw']);
    expect(there.detections).toHaveLength(1);
    expect(there.detections[0]!.records.map((r) => [r.rule.title, r.entity])).toEqual([
      ['Root login over SSH', 'user.name=root'],
    ]);
    expect(there.sightings.some((s) => s.type === 'ip' && s.value === '203.0.113.9')).toBe(true);
    expect(there.states).toHaveLength(1);
  });

  it('refuses a batch naming an organisation it has no rules for, and every later one until resumed', async () => {
    const worker = new WorkerBatchProcessor();
    open.push(worker);
    const known: DetectionInputs = { setups: [await setup(ORG)], suppressions: {} };
    await worker.process({
      records: [record(ORG, lines[0]!)],
      mode: 'live',
      detection: known,
      exportState: false,
    });
    const none: DetectionInputs = { setups: [], suppressions: {} };
    const first = await worker.process({
      records: [record(OTHER, lines[0]!)],
      mode: 'live',
      detection: none,
      exportState: false,
    });
    expect(first).toMatchObject({ refused: true, missing: [OTHER], rows: [] });
    // A later batch of a known organisation waits its turn: refused too, with nothing missing.
    const later = await worker.process({
      records: [record(ORG, lines[0]!)],
      mode: 'live',
      detection: none,
      exportState: false,
    });
    expect(later).toMatchObject({ refused: true, missing: [] });
    const resumed = await worker.process({
      records: [record(OTHER, lines[0]!)],
      mode: 'live',
      detection: { setups: [await setup(OTHER)], suppressions: {} },
      exportState: false,
      resume: true,
    });
    expect(resumed.refused).toBe(false);
    expect(resumed.detections.map((d) => d.orgId)).toEqual([OTHER]);
  });

  it('starts a new worker after the old one died; the in-flight request fails instead of hanging', async () => {
    const worker = new WorkerBatchProcessor();
    open.push(worker);
    await worker.process({ records: [], mode: 'live', detection: null, exportState: false });
    const thread = (worker as unknown as { worker: { terminate(): Promise<number> } }).worker;
    const pending = worker.process({
      records: Array.from({ length: 5000 }, (_, i) => record(ORG, lines[i % lines.length]!)),
      mode: 'live',
      detection: null,
      exportState: false,
    });
    await thread.terminate();
    // Settles (normally rejected: the worker died under it; resolved only if it finished first).
    const outcome = await pending.then(
      () => 'resolved',
      (error: Error) => error.message,
    );
    expect(outcome).toMatch(/resolved|batch worker exited/);
    const after = await worker.process({
      records: [record(ORG, lines[1]!)],
      mode: 'live',
      detection: null,
      exportState: false,
    });
    expect(after.rows).toHaveLength(1);
  });

  it('keeps the process alive while a request is in hand, and not once the worker is idle', async () => {
    // A child process whose only work is one request: with the worker unreferenced while busy, the
    // event loop would be empty and the process would exit (code 13) before the answer came.
    const root = path.resolve(import.meta.dirname, '../..');
    const dir = mkdtempSync(path.join(tmpdir(), 'fb-processor-'));
    const file = path.join(dir, 'one-request.mjs');
    writeFileSync(
      file,
      `import { WorkerBatchProcessor } from ${JSON.stringify(pathToFileURL(path.join(root, 'src/ingest/batch-processor.ts')).href)};
       const processor = new WorkerBatchProcessor();
       const result = await processor.process({ records: [], mode: 'live', detection: null, exportState: true });
       console.log('answered', result.events);`,
    );
    const child = spawnSync(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      encoding: 'utf8',
      timeout: 30_000,
    });
    rmSync(dir, { recursive: true, force: true });
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('answered 0');
    // The idle worker (never closed here) did not hold the process open afterwards.
    expect(child.status).toBe(0);
  });
});

/**
 * Kill -9 while appending: every call the spool acknowledged must be there after reopening, intact,
 * once and in order. The child runs the real FileSpool in its own process (crash-child.ts).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openFileSpool, type SpooledEvent } from '../../../src/ingest/spool/index.js';
import { eventNumber } from './events.js';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'firebreak-spool-crash-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Ack {
  readonly firstPosition: number;
  readonly lastPosition: number;
  readonly firstEvent: number;
}

/** Runs the child until it has acknowledged `records` records, then kills it with SIGKILL. */
function appendUntilKilled(round: number, records: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, String(round)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acks: Ack[] = [];
    let acked = 0;
    let buffered = '';
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [a, b, c] = line.split(' ').map(Number);
        if (line.startsWith('ready') || a === undefined || b === undefined || c === undefined) continue;
        acks.push({ firstPosition: a, lastPosition: b, firstEvent: c });
        acked += b - a + 1;
      }
      if (!killed && acked >= records) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(acks);
      else reject(new Error(`child exited with ${code}: ${stderr}`));
    });
  });
}

describe('FileSpool under kill -9', () => {
  it('keeps every acknowledged record, intact, once and in order, across two crashes', async () => {
    const acks: Ack[] = [];
    for (const [round, records] of [
      [1, 4000],
      [2, 2500],
    ] as const) {
      acks.push(...(await appendUntilKilled(round, records)));

      const spool = await openFileSpool({ directory: dir, segmentBytes: 256 * 1024 });
      try {
        const stored: SpooledEvent[] = [];
        for (let after = 0; ;) {
          const page = await spool.read(after, 1000);
          if (page.length === 0) break;
          stored.push(...page);
          after = (page.at(-1) as SpooledEvent).position;
        }
        expect(spool.stats().corruptRecords).toBe(0);
        expect(spool.stats().segments).toBeGreaterThan(1);
        // Once and in order: positions strictly increase and no event appears twice.
        const positions = stored.map((r) => r.position);
        expect(positions).toEqual(Array.from({ length: positions.length }, (_, i) => i + 1));
        const numbers = stored.map((r) => eventNumber(r.event));
        expect(new Set(numbers).size).toBe(numbers.length);
        // Every acknowledged call is there, whole, at the positions it was given.
        const byPosition = new Map(stored.map((r) => [r.position, r]));
        let missing = 0;
        for (const ack of acks) {
          for (let p = ack.firstPosition; p <= ack.lastPosition; p++) {
            const record = byPosition.get(p);
            if (!record || eventNumber(record.event) !== ack.firstEvent + (p - ack.firstPosition)) {
              missing++;
            }
          }
        }
        expect(missing).toBe(0);
        expect(acks.reduce((n, a) => n + a.lastPosition - a.firstPosition + 1, 0)).toBeGreaterThanOrEqual(
          records,
        );
        // Every call, acknowledged or not, is there whole or not at all (a torn write is cut whole).
        const perCall = new Map<number, number>();
        for (const n of numbers) perCall.set(n - (n % 100), (perCall.get(n - (n % 100)) ?? 0) + 1);
        for (const [first, count] of perCall) {
          const loop = Math.floor((first % 100_000_000) / 1_000_000);
          const i = Math.floor((first % 1_000_000) / 100);
          expect(count, `call ${first}`).toBe(1 + ((i + loop) % 13));
        }
      } finally {
        await spool.close();
      }
    }
  }, 60_000);
});

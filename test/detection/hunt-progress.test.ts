import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHunt } from '../../src/hunt/hunt.js';
import { ruleSetFrom, ruleYaml } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fb-progress-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('hunt progress', () => {
  it('reports bytes read across files, never going back, ending at the total size', async () => {
    const files: string[] = [];
    for (const name of ['a.json', 'b.json']) {
      const file = join(dir, name);
      const lines = Array.from({ length: 20_000 }, (_, i) =>
        JSON.stringify({ n: i, text: `${name} é ${i}` }),
      );
      await writeFile(file, `${lines.join('\n')}\n`);
      files.push(file);
    }
    const total = (await stat(files[0]!)).size + (await stat(files[1]!)).size;
    const reports: Array<[number, number]> = [];
    const summary = await runHunt(files, ruleSetFrom([ruleYaml(`s:\n    n: -1\ncondition: s`)]), {
      onMatch: () => undefined,
      onProgress: (done, of) => reports.push([done, of]),
    });
    expect(summary.events).toBe(40_000);
    // A report while in the first file (the reader is at most its read-ahead past the events it gave).
    const first = (await stat(files[0]!)).size;
    expect(reports.length).toBeGreaterThanOrEqual(2);
    expect(reports[0]![0]).toBeGreaterThan(0);
    expect(reports[0]![0]).toBeLessThanOrEqual(first);
    for (let i = 1; i < reports.length; i++)
      expect(reports[i]![0]).toBeGreaterThanOrEqual(reports[i - 1]![0]);
    expect(reports.every(([done, of]) => of === total && done <= total)).toBe(true);
    expect(reports.at(-1)).toEqual([total, total]);
  });
});

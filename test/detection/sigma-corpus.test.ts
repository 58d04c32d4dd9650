import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { registerHuntCommands } from '../../src/cli/hunt-commands.js';

/** The SigmaHQ corpus lives outside the repository (third-party data); skip when it is absent. */
const SIGMA = resolve(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'sigma');
const present = existsSync(join(SIGMA, 'rules'));
if (!present) console.warn(`skipping Sigma corpus tests: ${SIGMA} not found`);

async function cli(args: string[]): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  let code = 0;
  const program = new Command('firebreak').exitOverride();
  registerHuntCommands(program, {
    out: (t) => (out += t),
    err: (t) => (err += t),
    setExitCode: (c) => (code = c),
  });
  await program.parseAsync(['node', 'firebreak', ...args]);
  return { out, err, code };
}

async function findFiles(dir: string, name: RegExp): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await findFiles(full, name)));
    else if (name.test(entry.name)) out.push(full);
  }
  return out;
}

describe.skipIf(!present)('SigmaHQ corpus', () => {
  it('rules validate compiles at least 99% and names the reason of each failure', async () => {
    const folders = ['rules', 'rules-emerging-threats', 'rules-threat-hunting'].map((f) => join(SIGMA, f));
    const { out, code } = await cli(['rules', 'validate', '--json', ...folders]);
    const result = JSON.parse(out) as {
      total: number;
      compiled: number;
      failed: Array<{ file: string; reason: string }>;
    };
    expect(result.total).toBeGreaterThan(3000);
    expect(result.compiled / result.total).toBeGreaterThanOrEqual(0.99);
    expect(result.compiled + result.failed.length).toBe(result.total);
    for (const f of result.failed) {
      expect(f.file.startsWith(SIGMA)).toBe(true);
      expect(f.reason).toMatch(/(unsupported|not accepted|placeholder|modifier|expand)/);
    }
    expect(code).toBe(result.failed.length > 0 ? 1 : 0);
    console.log(`Sigma corpus: ${result.compiled}/${result.total} compiled`);
  }, 120_000);

  it('passes the regression cases on JSON and EVTX (at least match_count matches of the named rule)', async () => {
    // Index rule files by id.
    const ruleFiles = (
      await Promise.all(
        ['rules', 'rules-emerging-threats', 'rules-threat-hunting'].map((f) =>
          findFiles(join(SIGMA, f), /\.yml$/),
        ),
      )
    ).flat();
    const byId = new Map<string, string>();
    for (const file of ruleFiles) {
      const m = /^id:\s*(\S+)/m.exec(await readFile(file, 'utf8'));
      if (m) byId.set(m[1]!, file);
    }
    const infos = await findFiles(join(SIGMA, 'regression_data'), /^info\.yml$/);
    let passed = 0;
    const failures: string[] = [];
    for (const info of infos) {
      const doc = parse(await readFile(info, 'utf8')) as {
        rule_metadata: Array<{ id: string }>;
        regression_tests_info?: Array<{ path: string; match_count?: number }>;
      };
      for (const test of doc.regression_tests_info ?? []) {
        const ruleFile = byId.get(doc.rule_metadata[0]!.id);
        const json = join(SIGMA, test.path.replace(/\.evtx$/, '.json'));
        if (ruleFile === undefined || !existsSync(json)) {
          failures.push(`${info}: rule or JSON missing`);
          continue;
        }
        const want = test.match_count ?? 1;
        // The JSON export, and the EVTX file itself through Firebreak's EVTX reader.
        const evtx = join(SIGMA, test.path);
        for (const input of existsSync(evtx) && evtx !== json ? [json, evtx] : [json]) {
          const { out } = await cli(['hunt', '--json', '--rules', ruleFile, input]);
          const lines = out.split('\n').filter((l) => l !== '');
          const matching = lines
            .map((l) => JSON.parse(l) as { rule_id: string })
            .filter((m) => m.rule_id === doc.rule_metadata[0]!.id);
          if (matching.length >= want) passed++;
          else failures.push(`${ruleFile}: ${matching.length} < ${want} on ${input}`);
        }
      }
    }
    console.log(`Sigma regression cases: ${passed} passed, ${failures.length} failed`);
    expect(failures).toEqual([]);
    expect(passed).toBeGreaterThanOrEqual(200);
  }, 120_000);
});

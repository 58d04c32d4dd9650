import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EMPTY_MAPPING } from '../../src/detection/logsource.js';
import { loadRules } from '../../src/hunt/rule-loader.js';

const made: string[] = [];
afterAll(async () => {
  await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function failuresOf(files: Record<string, string>) {
  const dir = await mkdtemp(join(tmpdir(), 'fb-rules-'));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  const loaded = await loadRules([dir], EMPTY_MAPPING);
  return { dir, loaded };
}

const good = `title: ok\nlogsource:\n    product: x\ndetection:\n    s:\n        A: 1\n    condition: s\n`;

describe('malformed rules', () => {
  it('name the file and the field at fault, and keep the good rules', async () => {
    const { dir, loaded } = await failuresOf({
      'good.yml': good,
      'sub/no-title.yml': good.replace('title: ok\n', ''),
      'bad-level.yml': `${good}level: urgent\n`,
      'no-condition.yml': good.replace('    condition: s\n', ''),
      'unknown-id.yml': good.replace('condition: s', 'condition: s and t'),
      'bad-yaml.yml': 'title: [unclosed\n',
      'bad-value.yml': good.replace('A: 1', 'A:\n            nested: map'),
      'no-logsource.yml': good.replace('logsource:\n    product: x\n', ''),
    });
    expect(loaded.set.rules).toHaveLength(1);
    const reasons = Object.fromEntries(loaded.failures.map((f) => [f.file.slice(dir.length + 1), f.reason]));
    expect(Object.keys(reasons).sort()).toEqual(
      [
        'bad-level.yml',
        'bad-value.yml',
        'bad-yaml.yml',
        'no-condition.yml',
        'no-logsource.yml',
        'sub/no-title.yml',
        'unknown-id.yml',
      ].sort(),
    );
    expect(reasons['sub/no-title.yml']).toMatch(/^title: /);
    expect(reasons['bad-level.yml']).toMatch(/^level: .*urgent/);
    expect(reasons['no-condition.yml']).toMatch(/^detection\.condition: /);
    expect(reasons['unknown-id.yml']).toMatch(/unknown search identifier "t"/);
    expect(reasons['bad-yaml.yml']).toMatch(/YAML/);
    expect(reasons['bad-value.yml']).toMatch(/^detection\.s\.A: /);
    expect(reasons['no-logsource.yml']).toMatch(/^logsource: /);
  });
});

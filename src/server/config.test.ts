import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function file(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'firebreak-config-'));
  made.push(dir);
  const target = path.join(dir, 'firebreak.yml');
  writeFileSync(target, text);
  return target;
}

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('has working defaults', () => {
    const config = loadConfig({}, {});
    expect(config).toMatchObject({ port: 8080, host: '127.0.0.1', logLevel: 'info', secureCookies: false });
    expect(path.isAbsolute(config.dataDir)).toBe(true);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('takes flags over the environment over the file over defaults', () => {
    const settings = file('port: 9000\nhost: 0.0.0.0\nlog_level: warn\nsecure_cookies: true\n');
    const env = { FIREBREAK_CONFIG: settings, FIREBREAK_HOST: '10.0.0.5', FIREBREAK_LOG_LEVEL: 'error' };
    const config = loadConfig({ logLevel: 'debug' }, env);
    expect(config).toMatchObject({ port: 9000, host: '10.0.0.5', logLevel: 'debug', secureCookies: true });
    expect(loadConfig({ config: settings }, {}).port).toBe(9000);
  });

  it('lists every problem with the variable to fix', () => {
    const problems = problemsOf(() =>
      loadConfig({}, { FIREBREAK_PORT: 'eighty', FIREBREAK_DATABASE_URL: 'mysql://x' }),
    );
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).toContain('port (FIREBREAK_PORT)');
    expect(problems.join('\n')).toContain('databaseUrl (FIREBREAK_DATABASE_URL)');
  });

  it('refuses unknown settings and malformed files', () => {
    expect(problemsOf(() => loadConfig({ config: file('prot: 8080\n') }, {}))[0]).toContain(
      'unknown setting "prot"',
    );
    expect(problemsOf(() => loadConfig({ config: file('port: [1, 2]\n') }, {}))[0]).toContain('port must be');
    expect(problemsOf(() => loadConfig({ config: file('port: : :\n') }, {}))[0]).toContain('config file');
    expect(problemsOf(() => loadConfig({ config: '/nonexistent/firebreak.yml' }, {}))[0]).toContain(
      '/nonexistent/firebreak.yml',
    );
  });
});

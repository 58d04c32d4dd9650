/* eslint-disable no-control-regex -- these tests look for terminal control characters on purpose */
/**
 * `firebreak ingest` and `firebreak events search` against a stand-in HTTP server started here, which
 * records what it receives and answers as the events API contract says. The real endpoint's own
 * end-to-end test lives with the server.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { Command, CommanderError } from 'commander';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isFirebreakError } from '../../src/core/errors.js';
import { registerIngestCommands } from '../../src/cli/ingest-commands.js';
import { runCli } from '../../src/cli/program.js';
import { HAVE_REGRESSION_DATA, regressionEvtxFiles } from '../ingest/evtx/regression-data.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../ingest/files/fixtures');
const fixture = (name: string): string => join(FIXTURES, name);
const TOKEN = 'fbk_test_secret_token_value';

interface Received {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
  /** The body, gunzipped when sent with Content-Encoding: gzip. */
  readonly body: string;
  readonly lines: string[];
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Handler = (request: Received, index: number) => Reply;

let server: Server;
let base: string;
let received: Received[] = [];
let handler: Handler;
let dir: string;

/** Accepts every line (the server's happy path). */
const acceptAll: Handler = (r) =>
  r.method === 'POST' ? { status: 202, body: { accepted: r.lines.length, errors: [] } } : { status: 404 };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fb-ingest-cli-'));
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      const request: Received = {
        method: req.method ?? '',
        url: new URL(req.url ?? '/', 'http://stand-in'),
        headers: req.headers,
        body,
        lines: body === '' ? [] : body.replace(/\n$/, '').split('\n'),
      };
      received.push(request);
      const reply = handler(request, received.length - 1);
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  received = [];
  handler = acceptAll;
});

interface Run {
  code: number;
  out: string;
  err: string;
  sleeps: number[];
}

/** Runs the commands in-process with a recorded (instant) sleep. */
async function firebreak(
  args: string[],
  options: { maxRetries?: number; interactive?: boolean; now?: () => number } = {},
): Promise<Run> {
  let out = '';
  let err = '';
  let code = 0;
  const sleeps: number[] = [];
  const program = new Command('firebreak').exitOverride();
  program.configureOutput({ writeOut: (t) => void (out += t), writeErr: (t) => void (err += t) });
  registerIngestCommands(program, {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    setExitCode: (c) => {
      code = c;
    },
    interactive: options.interactive ?? false,
    ...(options.now ? { now: options.now } : {}),
    client: {
      maxRetries: options.maxRetries ?? 3,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
    },
  });
  try {
    await program.parseAsync(['node', 'firebreak', ...args]);
  } catch (error) {
    if (error instanceof CommanderError) code = error.exitCode;
    else {
      code = 1;
      err += `firebreak: ${isFirebreakError(error) ? `${error.message} (${error.code})` : String(error)}\n`;
    }
  }
  return { code, out, err, sleeps };
}

const ingest = (files: string[], ...flags: string[]) =>
  firebreak(['ingest', ...files, '--server', base, '--token', TOKEN, ...flags]);

async function temp(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

describe('firebreak ingest', () => {
  it('sends a syslog file as gzip text/plain with the format, source and bearer token', async () => {
    const run = await ingest([fixture('auth.log')], '--format', 'syslog');
    expect(run.code).toBe(0);
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request!.method).toBe('POST');
    expect(request!.url.pathname).toBe('/api/v1/events');
    expect(Object.fromEntries(request!.url.searchParams)).toEqual({ format: 'syslog', source: 'auth.log' });
    expect(request!.headers['authorization']).toBe(`Bearer ${TOKEN}`);
    expect(request!.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(request!.headers['content-encoding']).toBe('gzip');
    expect(request!.lines).toHaveLength(4);
    expect(request!.lines[3]).toMatch(/^Nov 27 07:42:03 web1 sshd\[1250\]: Accepted publickey/);
    expect(run.out).toMatch(/^1 file, 4 events sent, 4 accepted, 0 rejected; \d+\.\d s, \d+ events\/s\n$/);
    expect(run.err).toContain('reading as text lines, format syslog (--format syslog)');
    expect(run.out + run.err).not.toContain(TOKEN);
  });

  it('sends JSON documents as NDJSON exactly as written, and reports unreadable lines by file line', async () => {
    const run = await ingest([fixture('events.ndjson')], '--source', 'suricata-sensor-1');
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request!.headers['content-type']).toBe('application/x-ndjson');
    expect(Object.fromEntries(request!.url.searchParams)).toEqual({
      format: 'auto',
      source: 'suricata-sensor-1',
    });
    expect(request!.lines).toHaveLength(3);
    expect(request!.lines[0]).toContain('"flow_id":1234567890123456789');
    // Line 4 is malformed: not sent, reported, and the run fails.
    expect(run.err).toMatch(/events\.ndjson:4: invalid JSON .*\(not sent\)/);
    expect(run.out).toContain('3 events sent, 3 accepted, 0 rejected, 1 unreadable (not sent)');
    expect(run.code).toBe(1);
  });

  it('batches by --batch-size, one request per batch, in file order', async () => {
    const path = await temp(
      'many.log',
      Array.from({ length: 7 }, (_, i) => `Nov 27 07:40:1${i} h p: line ${i}`).join('\n'),
    );
    const run = await ingest([path], '--batch-size', '3');
    expect(run.code).toBe(0);
    expect(received.map((r) => r.lines.length)).toEqual([3, 3, 1]);
    expect(received.flatMap((r) => r.lines).map((l) => l.split(': ')[1])).toEqual(
      Array.from({ length: 7 }, (_, i) => `line ${i}`),
    );
    expect(run.out).toContain('7 events sent, 7 accepted');
  });

  it('shows progress on stderr only when it is a terminal, and clears it before the summary', async () => {
    const path = await temp(
      'progress.log',
      'Nov 27 07:40:10 h p: a\nNov 27 07:40:11 h p: b\nNov 27 07:40:12 h p: c\n',
    );
    const args = ['ingest', path, '--batch-size', '1', '--server', base, '--token', TOKEN];
    let t = 0;
    const tty = await firebreak(args, { interactive: true, now: () => (t += 1000) });
    expect(tty.err).toMatch(/\r\x1b\[K.*progress\.log: 1 events read \(\d+%\)/);
    expect(tty.err.endsWith('\r\x1b[K')).toBe(true);
    const pipe = await firebreak(args);
    expect(pipe.err).not.toContain('events read');
  });

  it('reports the server per-line errors with the file name and the file line number', async () => {
    handler = (r) => ({
      status: 202,
      body: { accepted: r.lines.length - 1, errors: [{ line: 3, error: 'unparseable timestamp' }] },
    });
    // auth.log has a blank line 3: the third event sent is file line 4.
    const run = await ingest([fixture('auth.log')]);
    expect(run.err).toContain(`${fixture('auth.log')}:4: unparseable timestamp\n`);
    expect(run.out).toContain('4 events sent, 3 accepted, 1 rejected');
    expect(run.code).toBe(1);
  });

  it('counts a 400 (nothing valid) as all rejected, with the per-line reasons', async () => {
    handler = (r) => ({
      status: 400,
      body: { accepted: 0, errors: r.lines.map((_, i) => ({ line: i + 1, error: 'not a syslog line' })) },
    });
    const path = await temp('junk.log', 'a\nb\n');
    const run = await ingest([path], '--format', 'syslog');
    expect(run.err).toContain(`${path}:1: not a syslog line`);
    expect(run.err).toContain(`${path}:2: not a syslog line`);
    expect(run.out).toContain('2 events sent, 0 accepted, 2 rejected');
    expect(run.code).toBe(1);
  });

  it('waits as long as Retry-After says after a 429, then sends again', async () => {
    handler = (r, i) =>
      i < 2
        ? { status: 429, headers: { 'retry-after': '7' }, body: { error: { code: 'busy', message: 'busy' } } }
        : acceptAll(r, i);
    const run = await ingest([fixture('access.log')]);
    expect(run.code).toBe(0);
    expect(run.sleeps).toEqual([7000, 7000]);
    expect(received).toHaveLength(3);
    expect(received[2]!.lines).toEqual(received[0]!.lines);
    expect(run.err).toMatch(/answered 429; retrying in 7\.0 s/);
    expect(run.out).toContain('3 events sent, 3 accepted');
  });

  it('gives up after the bounded number of retries and says so', async () => {
    handler = () => ({ status: 429, headers: { 'retry-after': '1' } });
    const run = await firebreak(['ingest', fixture('access.log'), '--server', base, '--token', TOKEN], {
      maxRetries: 2,
    });
    expect(received).toHaveLength(3);
    expect(run.sleeps).toEqual([1000, 1000]);
    expect(run.err).toMatch(/stopped: .*answered 429; gave up after 3 attempts/);
    expect(run.out).toContain('0 events sent');
    expect(run.code).toBe(1);
  });

  it('splits a batch the server finds too large (413) until it fits; an event that never fits is reported', async () => {
    // Over two events, or any request holding the huge one, is too large.
    handler = (r) =>
      r.lines.length > 2 || r.lines.some((l) => l.includes('HUGE'))
        ? { status: 413, body: { error: { code: 'too_large', message: 'too large' } } }
        : acceptAll(r, 0);
    const lines = Array.from(
      { length: 5 },
      (_, i) => `Nov 27 07:40:1${i} h p: ${i === 3 ? 'HUGE' : 'ok'} ${i}`,
    );
    const path = await temp('split.log', lines.join('\n'));
    const run = await ingest([path]);
    // 5 → 413; 3 → 413; 2 ok; 1 ok; 2 (with the huge one) → 413; the huge one alone → 413; 1 ok.
    expect(received.map((r) => r.lines.length)).toEqual([5, 3, 2, 1, 2, 1, 1]);
    const accepted = received.filter((r) => r.lines.length <= 2 && !r.lines.some((l) => l.includes('HUGE')));
    expect(accepted.flatMap((r) => r.lines)).toEqual(lines.filter((l) => !l.includes('HUGE')));
    expect(run.err).toContain(`${path}:4: event larger than the server accepts (413)`);
    expect(run.out).toContain('5 events sent, 4 accepted, 1 rejected');
    expect(run.code).toBe(1);
  });

  it('stops at once on 401 without trying further files, with a clear message and no token', async () => {
    handler = () => ({ status: 401, body: { error: { code: 'unauthenticated', message: 'sign in' } } });
    const run = await ingest([fixture('auth.log'), fixture('access.log')]);
    expect(received).toHaveLength(1);
    expect(run.err).toMatch(/refused the API token \(401\): check --token or FIREBREAK_TOKEN/);
    expect(run.out + run.err).not.toContain(TOKEN);
    expect(run.code).toBe(1);
  });

  it('stops on an answer it cannot handle (500) or a redirect, without sending more', async () => {
    handler = () => ({ status: 500, body: { error: { code: 'internal', message: 'boom' } } });
    const failed = await ingest([fixture('auth.log')], '--batch-size', '1');
    expect(received).toHaveLength(1);
    expect(failed.err).toContain('stopped: the server refused the events: boom (internal)');
    expect(failed.code).toBe(1);
    received = [];
    handler = () => ({ status: 302, headers: { location: 'https://elsewhere.test/api/v1/events' } });
    const moved = await ingest([fixture('auth.log')]);
    expect(received).toHaveLength(1);
    expect(moved.err).toContain('redirect (302) to https://elsewhere.test/api/v1/events: use that address');
    expect(moved.code).toBe(1);
  });

  it('explains a 403 as a missing role', async () => {
    handler = () => ({ status: 403, body: { error: { code: 'forbidden', message: 'no' } } });
    const run = await ingest([fixture('auth.log')]);
    expect(run.err).toMatch(/403.*responder or admin role/);
    expect(run.code).toBe(1);
  });

  it('reports a missing file and carries on with the others', async () => {
    const missing = join(dir, 'nope.log');
    const run = await ingest([missing, fixture('access.log')]);
    expect(run.err).toContain(`${missing}: `);
    expect(received).toHaveLength(1);
    expect(run.out).toContain('2 files, 3 events sent, 3 accepted, 0 rejected, 1 file failed');
    expect(run.code).toBe(1);
  });

  it('sends CSV rows as NDJSON objects keyed by the header', async () => {
    const run = await ingest([fixture('edge.csv')], '--json');
    expect(received[0]!.headers['content-type']).toBe('application/x-ndjson');
    expect(
      received[0]!.lines.map((l) => JSON.parse(l) as Record<string, string>).map((o) => o['user']),
    ).toEqual(['alice', 'bob', 'dave']);
    expect(JSON.parse(run.out)).toMatchObject({ files: 1, sent: 3, accepted: 3, rejected: 0, unreadable: 1 });
    expect(run.err).toContain(`${fixture('edge.csv')}:6: Invalid Record Length`);
  });

  it.skipIf(!HAVE_REGRESSION_DATA)('sends EVTX records as NDJSON with format windows', async () => {
    const [evtx] = regressionEvtxFiles();
    const run = await ingest([evtx!]);
    expect(run.code).toBe(0);
    expect(received.length).toBeGreaterThan(0);
    expect(received[0]!.url.searchParams.get('format')).toBe('windows');
    const first = JSON.parse(received[0]!.lines[0]!) as { Event: { System: unknown } };
    expect(first.Event.System).toBeDefined();
  });

  it('reads the server and token from FIREBREAK_URL and FIREBREAK_TOKEN', async () => {
    const saved = { url: process.env['FIREBREAK_URL'], token: process.env['FIREBREAK_TOKEN'] };
    process.env['FIREBREAK_URL'] = base;
    process.env['FIREBREAK_TOKEN'] = 'fbk_from_env';
    try {
      const run = await firebreak(['ingest', fixture('access.log')]);
      expect(run.code).toBe(0);
      expect(received[0]!.headers['authorization']).toBe('Bearer fbk_from_env');
    } finally {
      for (const [key, value] of [
        ['FIREBREAK_URL', saved.url],
        ['FIREBREAK_TOKEN', saved.token],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it('refuses to run without a token', async () => {
    const saved = process.env['FIREBREAK_TOKEN'];
    delete process.env['FIREBREAK_TOKEN'];
    try {
      const run = await firebreak(['ingest', fixture('access.log'), '--server', base]);
      expect(run.code).toBe(1);
      expect(run.err).toContain('missing_token');
      expect(received).toHaveLength(0);
    } finally {
      if (saved !== undefined) process.env['FIREBREAK_TOKEN'] = saved;
    }
  });

  it('is registered in the firebreak program', async () => {
    let out = '';
    let err = '';
    const code = await runCli(
      ['node', 'firebreak', 'ingest', fixture('access.log'), '--server', base, '--token', TOKEN],
      {
        out: (t) => void (out += t),
        err: (t) => void (err += t),
        stdin: () => Promise.resolve(''),
      },
    );
    expect(code).toBe(0);
    expect(out).toContain('3 events sent, 3 accepted');
    expect(received).toHaveLength(1);
  });
});

const event = (i: number, extra: Record<string, unknown> = {}) => ({
  id: `0193a000-0000-7000-8000-00000000000${i}`,
  received_at: '2025-11-27T07:40:20.000Z',
  timestamp: `2025-11-27T07:40:1${i}.000Z`,
  source: { kind: 'file', name: 'auth.log' },
  parser: 'openssh',
  fields: { 'host.name': 'web1', 'user.name': 'root', message: `Failed password ${i}`, ...extra },
  raw: `raw ${i}`,
});

describe('firebreak events search', () => {
  beforeEach(() => {
    handler = (r) => {
      if (r.method !== 'GET') return { status: 405 };
      const cursor = r.url.searchParams.get('cursor');
      if (cursor === null) return { status: 200, body: { items: [event(1), event(2)], next_cursor: 'c2' } };
      if (cursor === 'c2') return { status: 200, body: { items: [event(3), event(4)], next_cursor: 'c3' } };
      return { status: 200, body: { items: [event(5)], next_cursor: null } };
    };
  });

  it('follows next_cursor up to --limit and passes the query', async () => {
    const run = await firebreak([
      'events',
      'search',
      '--q',
      'user.name:root "failed password"',
      '--from',
      '2025-11-27T00:00:00Z',
      '--to',
      '2025-11-28T00:00:00+01:00',
      '--limit',
      '3',
      '--server',
      base,
      '--token',
      TOKEN,
    ]);
    expect(run.code).toBe(0);
    expect(received).toHaveLength(2);
    expect(received[0]!.url.pathname).toBe('/api/v1/events');
    expect(Object.fromEntries(received[0]!.url.searchParams)).toEqual({
      q: 'user.name:root "failed password"',
      from: '2025-11-27T00:00:00.000Z',
      to: '2025-11-27T23:00:00.000Z',
      limit: '3',
    });
    expect(Object.fromEntries(received[1]!.url.searchParams)).toMatchObject({ cursor: 'c2', limit: '1' });
    expect(received[0]!.headers['authorization']).toBe(`Bearer ${TOKEN}`);
    const rows = run.out.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^TIME\s+SOURCE\s+PARSER\s+HOST\s+USER\s+MESSAGE$/);
    expect(rows).toHaveLength(4);
    expect(rows[1]).toMatch(
      /^2025-11-27T07:40:11\.000Z\s+auth\.log\s+openssh\s+web1\s+root\s+Failed password 1$/,
    );
  });

  it('prints NDJSON with --json, reads every page, and escapes terminal control characters', async () => {
    handler = () => ({
      status: 200,
      body: { items: [event(1, { message: 'evil \u001b]0;title\u0007 \u009b31m' })], next_cursor: null },
    });
    const run = await firebreak(['events', 'search', '--json', '--server', base, '--token', TOKEN]);
    expect(run.code).toBe(0);
    const lines = run.out.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(run.out).not.toMatch(/[\u001b\u0007\u009b]/);
    expect((JSON.parse(lines[0]!) as { fields: { message: string } }).fields.message).toBe(
      'evil \u001b]0;title\u0007 \u009b31m',
    );
    const table = await firebreak(['events', 'search', '--server', base, '--token', TOKEN]);
    expect(table.out).not.toMatch(/[\u001b\u0007\u009b]/);
    expect(table.out).toContain('evil \\u001b]0;title\\u0007 \\u009b31m');
  });

  it('turns a duration into a time ago and refuses an unreadable time', async () => {
    const before = Date.now();
    await firebreak([
      'events',
      'search',
      '--from',
      '24h',
      '--limit',
      '1',
      '--server',
      base,
      '--token',
      TOKEN,
    ]);
    const from = Date.parse(received[0]!.url.searchParams.get('from')!);
    expect(Math.abs(before - 24 * 3600_000 - from)).toBeLessThan(5000);
    const bad = await firebreak([
      'events',
      'search',
      '--from',
      'yesterday',
      '--server',
      base,
      '--token',
      TOKEN,
    ]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('--from: expected an ISO 8601 time');
  });

  it('says so when nothing matches, and reports a refused search', async () => {
    handler = () => ({ status: 200, body: { items: [], next_cursor: null } });
    expect((await firebreak(['events', 'search', '--server', base, '--token', TOKEN])).out).toBe(
      'no events\n',
    );
    handler = () => ({ status: 400, body: { error: { code: 'invalid_request', message: 'q: bad term' } } });
    const bad = await firebreak(['events', 'search', '--q', 'x:', '--server', base, '--token', TOKEN]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('event search failed: q: bad term (invalid_request)');
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventsClient, printable, retryAfterMs } from '../../../src/ingest/files/events-client.js';
import { ingestFiles } from '../../../src/ingest/files/ingest-files.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fb-ingest-batches-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A client whose fetch records bodies and accepts everything. */
function recordingClient(): { client: EventsClient; bodies: string[][] } {
  const bodies: string[][] = [];
  const fakeFetch = async (_url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const text = gunzipSync(Buffer.from(init!.body as Uint8Array)).toString('utf8');
    const lines = text.replace(/\n$/, '').split('\n');
    bodies.push(lines);
    return new Response(JSON.stringify({ accepted: lines.length, errors: [] }), { status: 202 });
  };
  return {
    client: new EventsClient({ server: 'http://firebreak.test', token: 't', fetch: fakeFetch }),
    bodies,
  };
}

describe('ingestFiles', () => {
  it('closes a batch before it would pass maxBatchBytes', async () => {
    const line = (i: number) => `Nov 27 07:40:10 host prog: event number ${i} padded`; // 48 chars
    const path = join(dir, 'bytes.log');
    await writeFile(path, Array.from({ length: 5 }, (_, i) => line(i)).join('\n'));
    const { client, bodies } = recordingClient();
    const summary = await ingestFiles([path], client, { maxBatchBytes: 100 });
    expect(bodies.map((b) => b.length)).toEqual([2, 2, 1]);
    expect(summary).toMatchObject({ files: 1, sent: 5, accepted: 5, rejected: 0, unreadable: 0 });
    expect(summary.stopped).toBeUndefined();
  });

  it('does not mix files in a batch, and names each file as its source', async () => {
    const a = join(dir, 'a.log');
    const b = join(dir, 'b.log');
    await writeFile(a, 'Nov 27 07:40:10 h p: a1\n');
    await writeFile(b, 'Nov 27 07:40:10 h p: b1\n');
    const sources: string[] = [];
    const client = new EventsClient({
      server: 'http://firebreak.test/prefix',
      token: 't',
      fetch: async (url) => {
        const u = new URL(String(url));
        sources.push(`${u.pathname}?${u.searchParams.get('source')}`);
        return new Response(JSON.stringify({ accepted: 1, errors: [] }), { status: 202 });
      },
    });
    await ingestFiles([a, b], client);
    expect(sources).toEqual(['/prefix/api/v1/events?a.log', '/prefix/api/v1/events?b.log']);
  });
});

describe('events client retries', () => {
  it('sends each batch with its own Idempotency-Key and the same key on every retry of it', async () => {
    const keys: string[] = [];
    let calls = 0;
    const client = new EventsClient({
      server: 'http://firebreak.test',
      token: 't',
      sleep: () => Promise.resolve(),
      fetch: (_url, init) => {
        keys.push(new Headers(init?.headers).get('idempotency-key') ?? '');
        calls++;
        // The first attempt times out after reaching the server; the second is answered.
        if (calls === 1) return Promise.reject(new TypeError('fetch failed'));
        return Promise.resolve(new Response(JSON.stringify({ accepted: 1, errors: [] }), { status: 202 }));
      },
    });
    const batch = { lines: ['a'], format: 'syslog', source: 'x', body: 'text' } as const;
    await client.postEvents(batch);
    await client.postEvents(batch);
    expect(keys).toHaveLength(3);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
  });
});

describe('events client helpers', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(retryAfterMs('12')).toBe(12_000);
    expect(retryAfterMs('Thu, 27 Nov 2025 07:40:30 GMT', Date.parse('2025-11-27T07:40:10Z'))).toBe(20_000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });

  it('escapes control characters but keeps tabs, line breaks and other text', () => {
    expect(printable('a\u001b[31mb\u0007\tc\nd é')).toBe('a\\u001b[31mb\\u0007\tc\nd é');
  });

  it('refuses URLs it should not send a token to', () => {
    expect(() => new EventsClient({ server: 'ftp://x', token: 't' })).toThrow(/http/);
    expect(() => new EventsClient({ server: 'http://user:pw@x', token: 't' })).toThrow(/--token/);
    expect(() => new EventsClient({ server: 'not a url', token: 't' })).toThrow(/not a URL/);
  });
});

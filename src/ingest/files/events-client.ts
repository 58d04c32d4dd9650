/**
 * The HTTP client of the events API (`POST /api/v1/events`, `GET /api/v1/events`), used by
 * `firebreak ingest` and `firebreak events search`. Retries what the server says to retry; never
 * puts the token in a message.
 */
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { z } from 'zod';
import { AuthenticationError, ForbiddenError, OperationalError, UserError } from '../../core/errors.js';
import type { FormatHint } from '../event-record.js';

const gzip = promisify(gzipCallback);

/** Where a CLI connects when neither `--server` nor FIREBREAK_URL says (the server's default address). */
export const DEFAULT_SERVER_URL = 'http://127.0.0.1:8080';

export interface EventsClientOptions {
  /** Base URL of the Firebreak server (`https://firebreak.example`, a path prefix is kept). */
  readonly server: string;
  /** An API token (`fbk_...`) of a responder or admin. */
  readonly token: string;
  /** Retries of one request after 429, 502/503/504 or a network failure (default 5). */
  readonly maxRetries?: number;
  /** Longest wait honoured from `Retry-After`, in ms (default 300 000); longer waits are cut to it. */
  readonly maxRetryDelayMs?: number;
  /** Per-request timeout in ms (default 120 000). */
  readonly timeoutMs?: number;
  /** Called before each wait-and-retry, for messages. */
  readonly onRetry?: (reason: string, delayMs: number) => void;
  /** Injectable for tests. */
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** One line the server refused: `line` is 1-based within the request body. */
export interface BodyLineError {
  readonly line: number;
  readonly error: string;
}

/** What became of one `POST /api/v1/events`. */
export type PostEventsResult =
  /** 202: the valid lines were kept; `errors` names the others. */
  | { readonly kind: 'accepted'; readonly accepted: number; readonly errors: readonly BodyLineError[] }
  /** 400: nothing was kept; `errors` per line when the server gave them, else `message` for the batch. */
  | { readonly kind: 'rejected'; readonly errors: readonly BodyLineError[]; readonly message: string }
  /** 413: the body is over the server's limit; send smaller batches. */
  | { readonly kind: 'too_large' };

export interface PostEventsInput {
  /** One event per entry: a JSON document on one line (`ndjson`) or a raw text line (`text`). */
  readonly body: 'ndjson' | 'text';
  readonly lines: readonly string[];
  readonly format: FormatHint;
  readonly source?: string;
}

export interface SearchEventsQuery {
  readonly q?: string;
  readonly from?: string;
  readonly to?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

const StoredEvent = z.looseObject({
  id: z.string(),
  received_at: z.string(),
  timestamp: z.string().nullish(),
  source: z.looseObject({ kind: z.string(), name: z.string().nullish() }),
  parser: z.string().nullish(),
  fields: z.record(z.string(), z.unknown()).default({}),
  raw: z.union([z.string(), z.record(z.string(), z.unknown())]).nullish(),
});
/** One event as `GET /api/v1/events` returns it. */
export type StoredEvent = z.output<typeof StoredEvent>;

const EventsPage = z.object({
  items: z.array(StoredEvent),
  next_cursor: z.string().nullish(),
});
export type EventsPage = z.output<typeof EventsPage>;

const LineErrors = z.array(z.object({ line: z.number().int(), error: z.string() }));
const Accepted = z.object({ accepted: z.number().int().min(0), errors: LineErrors.default([]) });
const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

const CONTENT_TYPES = { ndjson: 'application/x-ndjson', text: 'text/plain; charset=utf-8' } as const;

/** Seconds or an HTTP date → ms to wait; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Control characters (terminal escapes included) made visible; for text that came from the network. */
export function printable(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function describeError(body: unknown, status: number): string {
  const parsed = ErrorBody.safeParse(body);
  return parsed.success ? `${parsed.data.error.message} (${parsed.data.error.code})` : `HTTP ${status}`;
}

/** Client of the events API. Rejects with AuthenticationError (401), ForbiddenError (403),
 * OperationalError when the server stays unreachable or busy after the retries, UserError for other
 * refusals. */
export class EventsClient {
  private readonly base: URL;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: EventsClientOptions) {
    let base: URL;
    try {
      base = new URL(options.server.endsWith('/') ? options.server : `${options.server}/`);
    } catch (error) {
      throw new UserError(
        'invalid_server_url',
        `--server: not a URL: ${options.server}`,
        {},
        { cause: error },
      );
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:')
      throw new UserError('invalid_server_url', `--server: must be an http:// or https:// URL`);
    if (base.username !== '' || base.password !== '')
      throw new UserError('invalid_server_url', '--server: give credentials with --token, not in the URL');
    if (options.token.trim() === '')
      throw new UserError('missing_token', 'an API token is needed: --token or FIREBREAK_TOKEN');
    this.base = base;
    this.fetchImpl = options.fetch ?? fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** The events endpoint with a query string. */
  private url(params: Record<string, string | number | undefined>): URL {
    const url = new URL('api/v1/events', this.base);
    for (const [key, value] of Object.entries(params))
      if (value !== undefined && value !== '') url.searchParams.set(key, String(value));
    return url;
  }

  /**
   * Sends one request, retrying after 429 (waiting `Retry-After`), 502/503/504 and network failures
   * up to `maxRetries` times with growing waits. Throws on 401/403 and once retries are spent.
   */
  private async request(url: URL, init: RequestInit): Promise<Response> {
    const maxRetries = this.options.maxRetries ?? 5;
    const maxDelay = this.options.maxRetryDelayMs ?? 300_000;
    const where = `${url.origin}${url.pathname}`;
    for (let attempt = 0; ; attempt++) {
      const backoff = Math.min(30_000, 1000 * 2 ** attempt);
      let reason: string;
      let delay = backoff;
      try {
        const response = await this.fetchImpl(url, {
          ...init,
          redirect: 'manual',
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 120_000),
        });
        const status = response.status;
        if (status === 401) {
          await response.body?.cancel();
          throw new AuthenticationError(
            'server_token_refused',
            `${where} refused the API token (401): check --token or FIREBREAK_TOKEN (it may be revoked or expired)`,
          );
        }
        if (status === 403) {
          await response.body?.cancel();
          throw new ForbiddenError(
            'server_forbidden',
            `${where} refused this request for the token's owner (403): it needs the responder or admin role`,
          );
        }
        if (status >= 300 && status < 400) {
          await response.body?.cancel();
          throw new UserError(
            'server_redirect',
            `${where} answered with a redirect (${status}) to ${response.headers.get('location') ?? '?'}: use that address as --server`,
          );
        }
        if (status !== 429 && status !== 502 && status !== 503 && status !== 504) return response;
        await response.body?.cancel();
        reason = `${where} answered ${status}`;
        const asked = retryAfterMs(response.headers.get('retry-after'));
        if (asked !== undefined) delay = Math.min(asked, maxDelay);
      } catch (error) {
        if (
          error instanceof AuthenticationError ||
          error instanceof ForbiddenError ||
          error instanceof UserError
        )
          throw error;
        reason = `${where} unreachable (${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message})`;
      }
      if (attempt >= maxRetries)
        throw new OperationalError(
          'server_unavailable',
          `${reason}; gave up after ${maxRetries + 1} attempts`,
        );
      this.options.onRetry?.(reason, delay);
      await this.sleep(delay);
    }
  }

  /** `POST /api/v1/events?format=&source=` with the lines as a gzip-compressed body. */
  async postEvents(input: PostEventsInput): Promise<PostEventsResult> {
    const text = input.lines.length === 0 ? '' : `${input.lines.join('\n')}\n`;
    const body = await gzip(Buffer.from(text, 'utf8'), { level: 4 });
    const url = this.url({ format: input.format, source: input.source });
    // One key per batch, the same on every retry of it: a retry after a timeout cannot store the
    // batch twice when the first attempt did reach the server.
    const response = await this.request(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${this.options.token}`,
        'idempotency-key': randomUUID(),
        'content-type': CONTENT_TYPES[input.body],
        'content-encoding': 'gzip',
        accept: 'application/json',
      },
      body,
    });
    if (response.status === 413) {
      await response.body?.cancel();
      return { kind: 'too_large' };
    }
    const json = await readJson(response);
    if (response.status === 200 || response.status === 202) {
      const parsed = Accepted.safeParse(json);
      if (!parsed.success)
        throw new OperationalError(
          'server_bad_answer',
          `the server's answer to ${url.pathname} was not understood`,
        );
      return { kind: 'accepted', accepted: parsed.data.accepted, errors: parsed.data.errors };
    }
    if (response.status === 400) {
      const perLine = z.object({ errors: LineErrors }).safeParse(json);
      return {
        kind: 'rejected',
        errors: perLine.success ? perLine.data.errors : [],
        message: describeError(json, 400),
      };
    }
    throw new UserError(
      'server_refused',
      `the server refused the events: ${describeError(json, response.status)}`,
      {
        status: response.status,
      },
    );
  }

  /** One page of `GET /api/v1/events`. */
  async searchEvents(query: SearchEventsQuery): Promise<EventsPage> {
    const url = this.url({
      q: query.q,
      from: query.from,
      to: query.to,
      limit: query.limit,
      cursor: query.cursor,
    });
    const response = await this.request(url, {
      method: 'GET',
      headers: { authorization: `Bearer ${this.options.token}`, accept: 'application/json' },
    });
    const json = await readJson(response);
    if (response.status !== 200)
      throw new UserError('server_refused', `event search failed: ${describeError(json, response.status)}`, {
        status: response.status,
      });
    const parsed = EventsPage.safeParse(json);
    if (!parsed.success)
      throw new OperationalError(
        'server_bad_answer',
        `the server's answer to ${url.pathname} was not understood`,
      );
    return parsed.data;
  }

  /**
   * Events matching the query, following `next_cursor` page after page until `limit` events (or the
   * end). Pages ask for at most `pageSize` (default 200) events.
   */
  async *iterateEvents(
    query: Omit<SearchEventsQuery, 'limit' | 'cursor'>,
    limit: number,
    pageSize = 200,
  ): AsyncGenerator<StoredEvent> {
    let remaining = limit;
    let cursor: string | undefined;
    while (remaining > 0) {
      const page = await this.searchEvents({ ...query, limit: Math.min(remaining, pageSize), cursor });
      for (const item of page.items.slice(0, remaining)) yield item;
      remaining -= Math.min(page.items.length, remaining);
      if (page.next_cursor === null || page.next_cursor === undefined || page.items.length === 0) return;
      cursor = page.next_cursor;
    }
  }
}

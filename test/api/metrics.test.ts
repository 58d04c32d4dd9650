/** `GET /metrics`: off (404) without a token; with one, only that token opens it. */
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerMetricsRoute } from '../../src/api/metrics-route.js';
import { announceSkips, ENGINES } from '../support/engines.js';
import { createApiEnv, type ApiEnv } from '../support/harness.js';

announceSkips();

const sqlite = ENGINES.find((e) => e.name === 'sqlite')!;

describe('GET /metrics', () => {
  let env: ApiEnv;
  beforeAll(async () => {
    env = await createApiEnv(sqlite);
  });
  afterAll(async () => {
    await env?.close();
  });

  it('answers 404 naming the setting while no metrics token is configured (not the console page)', async () => {
    const response = await env.app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('metrics_disabled');
    // Even an administrator's API token does not open it.
    const admin = await env.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${env.tokens.admin}` },
    });
    expect(admin.statusCode).toBe(404);
  });

  it('with a token: 401 without it or with another, the text format with it', async () => {
    const app = Fastify();
    registerMetricsRoute(app, {
      token: 'a-long-scrape-secret',
      source: { contentType: 'text/plain; version=0.0.4; charset=utf-8', render: async () => 'up 1\n' },
    });
    await app.ready();
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    const wrong = await app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: 'Bearer a-long-scrape-secreT' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['www-authenticate']).toBe('Bearer');
    const right = await app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: 'Bearer a-long-scrape-secret' },
    });
    expect(right.statusCode).toBe(200);
    expect(right.headers['content-type']).toContain('version=0.0.4');
    expect(right.body).toBe('up 1\n');
    await app.close();
  });
});

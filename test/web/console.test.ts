/**
 * The web console in a real browser: Debian's Chromium driven by playwright-core against a real
 * `firebreak serve` process on a temporary data directory. Builds the console first when dist/web is
 * missing or older than web/. Skips, saying why, when /usr/bin/chromium is absent.
 *
 * Screenshots go to test-output/screenshots/; with FIREBREAK_UPDATE_SCREENSHOTS=1 the dashboard and
 * incident page are also copied to docs/screenshots/ for the README.
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../e2e/server-process.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = '/usr/bin/chromium';
const SKIP = existsSync(CHROMIUM)
  ? null
  : `browser tests skipped: ${CHROMIUM} is absent (apt-get install -y chromium)`;
if (SKIP) process.stderr.write(`[firebreak tests] ${SKIP}\n`);

const ADMIN = 'admin@firebreak.local';
const PASSWORD = 'console test passphrase 42';
const SHOTS = path.join(ROOT, 'test-output/screenshots');
const VIEWPORT = { width: 1366, height: 820 };

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** Builds the console when dist/web is missing or older than its sources (about 5 s). */
function ensureConsoleBuilt(): void {
  const index = path.join(ROOT, 'dist/web/index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newestMtime(path.join(ROOT, 'web'))) return;
  execFileSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'web/vite.config.ts'],
    {
      cwd: ROOT,
      stdio: 'pipe',
    },
  );
}

/** A session client for setting up data the way any API user would. */
class Client {
  private cookie = '';
  private csrf = '';
  constructor(private readonly base: string) {}
  async login(email: string, password: string): Promise<void> {
    const res = await fetch(`${this.base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    expect(res.status).toBe(200);
    this.cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
    this.csrf = ((await res.json()) as { csrf_token: string }).csrf_token;
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test client reads whatever JSON comes back
  async send(method: string, url: string, body?: unknown): Promise<any> {
    const res = await fetch(`${this.base}/api/v1${url}`, {
      method,
      headers: {
        cookie: this.cookie,
        'x-csrf-token': this.csrf,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? null : res.json();
  }
  /** Posts text lines (syslog and the like) to the events endpoint. */
  async postLines(lines: string[], source: string): Promise<void> {
    const res = await fetch(`${this.base}/api/v1/events?source=${source}`, {
      method: 'POST',
      headers: { cookie: this.cookie, 'x-csrf-token': this.csrf, 'content-type': 'text/plain' },
      body: lines.join('\n'),
    });
    expect(res.status).toBe(202);
  }
}

const AXE_SOURCE = () => readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Runs axe-core in the page (through the DevTools protocol, so the page's CSP stays as it is). */
async function seriousViolations(page: Page): Promise<string[]> {
  const started = Date.now();
  if (await page.evaluate(`typeof axe === 'undefined'`)) await page.evaluate(`${AXE_SOURCE()}\n;undefined`);
  const violations = (await page.evaluate(
    `axe.run(document, { resultTypes: ['violations'] }).then(r => r.violations)`,
  )) as AxeViolation[];
  if (process.env.FIREBREAK_WEB_TIMING) process.stderr.write(`axe ${Date.now() - started} ms\n`);
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.impact} ${v.id}: ${v.help} (${v.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 3)
          .join(', ')})`,
    );
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  // Passing confirmations would cover part of the picture.
  await page.evaluate(`document.querySelector('.toasts')?.style.setProperty('visibility', 'hidden')`);
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  await page.evaluate(`document.querySelector('.toasts')?.style.removeProperty('visibility')`);
}

async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe.skipIf(SKIP !== null)('web console in Chromium', () => {
  let server: ServerProcess;
  let dataDir: string;
  let browser: Browser;
  let admin: Client;
  let context: BrowserContext;
  let page: Page;
  const cspViolations: string[] = [];
  let incidentUrl = '';
  let alertId = '';

  beforeAll(async () => {
    ensureConsoleBuilt();
    dataDir = mkdtempSync(path.join(tmpdir(), 'firebreak-web-'));
    [server, browser] = await Promise.all([
      startServerProcess(['--data-dir', dataDir], {
        FIREBREAK_ADMIN_PASSWORD: PASSWORD,
        FIREBREAK_LOG_LEVEL: 'warn',
        FIREBREAK_SYSLOG_PORT: '0',
      }),
      chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--disable-background-networking'],
      }),
    ]);
    admin = new Client(server.url);
    await admin.login(ADMIN, PASSWORD);
    context = await browser.newContext({ viewport: VIEWPORT, colorScheme: 'light' });
    page = await context.newPage();
    page.on('console', (message) => {
      if (/Content[- ]Security[- ]Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the console with a strict CSP and falls back to the app for page addresses, not for the API', async () => {
    const page = await fetch(`${server.url}/incidents/anything`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<div id="root">');
    const api = await fetch(`${server.url}/api/v1/nothing-here`);
    expect(api.status).toBe(404);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('route_not_found');
    expect(api.headers.get('content-security-policy')).toBeNull();
  });

  it('signs in (a wrong password is refused with a clear error) and lands on the page asked for', async () => {
    await page.goto(`${server.url}/alerts`);
    await signIn(page, ADMIN, 'not the password at all');
    await expect
      .poll(() => page.locator('#sign-in-error').textContent())
      .toContain('Wrong email or password');
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'sign-in');
    await signIn(page, ADMIN, PASSWORD);
    await page.getByRole('heading', { name: 'Alert queue' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/alerts');
    await page.locator('.live-dot.live').waitFor();
  }, 45_000);

  it('shows a new alert live, promotes it with the keyboard, and captures an observable from the timeline', async () => {
    await page.locator('td.empty').waitFor();
    const created = await admin.send('POST', '/alerts', {
      title: 'Impossible travel for jdoe',
      severity: 'high',
      source: 'idp',
      rule: 'impossible-travel',
      observables: [{ type: 'user', value: 'jdoe' }],
      payload: {
        source: { ip: '203.0.113.7', geo: { country_iso_code: 'BR' } },
        user: { name: 'jdoe' },
        host: { name: 'ws-042' },
      },
    });
    alertId = created.id as string;
    const row = page.locator(`tr[data-alert-id="${alertId}"]`);
    await row.waitFor({ timeout: 5_000 });
    await row.click();
    await page.locator('.alert-detail .json').getByText('203.0.113.7').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'alerts');

    await page.keyboard.press('?');
    await page.getByRole('heading', { name: 'Keyboard shortcuts' }).waitFor();
    await page.keyboard.press('Escape');
    // The next key goes to the page only once the modal is gone (under load the close can lag).
    await page.getByRole('heading', { name: 'Keyboard shortcuts' }).waitFor({ state: 'hidden' });
    await page.keyboard.press('p');
    await page.getByRole('heading', { name: 'Promote to a new incident' }).waitFor();
    await page.getByRole('button', { name: 'Promote', exact: true }).click();
    await page.waitForURL(/\/incidents\/[0-9a-f-]{36}$/);
    incidentUrl = page.url();
    await page.getByRole('heading', { name: 'Impossible travel for jdoe', level: 1 }).waitFor();

    const observables = page.getByRole('list', { name: 'Observables' });
    await observables.getByText('jdoe').waitFor();
    await page.getByRole('button', { name: 'Add 203.0.113.7 as ip observable' }).click();
    await observables.getByText('203.0.113.7').waitFor();
    // Captured values are marked in the timeline instead of offering the button again.
    await expect
      .poll(() => page.getByRole('button', { name: 'Add 203.0.113.7 as ip observable' }).count())
      .toBe(0);

    // Another responder's changes arrive live; Markdown is rendered with raw HTML shown as text.
    const incidentId = incidentUrl.split('/').pop()!;
    await admin.send('POST', `/incidents/${incidentId}/tasks`, { title: 'Reset the credentials of jdoe' });
    await admin.send('POST', `/incidents/${incidentId}/notes`, {
      body: 'Sign-in from **BR** two hours after one from DE. <img src=x onerror=alert(1)>',
    });
    await page.locator('.note .markdown strong', { hasText: 'BR' }).waitFor();
    await page.locator('.tasks').getByText('Reset the credentials of jdoe').waitFor();
    expect(await page.locator('.note .markdown img').count()).toBe(0);
    expect(await page.locator('.note .markdown').textContent()).toContain('<img src=x onerror=alert(1)>');
    await shot(page, 'incident');
  }, 45_000);

  it('moves the incident through every phase (back with a reason) and closes it with a review summary', async () => {
    const step = (phase: string) => page.locator(`button.step-button[data-phase="${phase}"]`);
    const current = () => page.locator('.step.current .step-label').textContent();
    await step('containment').click();
    await expect.poll(current).toBe('containment');
    await step('analysis').click();
    await page.getByLabel('Reason').fill('Second login from the same address');
    await page.getByRole('button', { name: 'Move back to analysis' }).click();
    await expect.poll(current).toBe('analysis');
    for (const phase of ['containment', 'remediation', 'follow up']) {
      await step(phase.replace(' ', '_')).click();
      await expect.poll(current).toBe(phase);
    }
    await step('closed').click();
    await page.getByLabel('Review summary (Markdown)').fill('Credentials reset; **MFA** enforced for jdoe.');
    await page.getByRole('button', { name: 'Close incident' }).click();
    await expect.poll(current).toBe('closed');
    await page.getByRole('heading', { name: 'Review summary' }).waitFor();
    await page.locator('.markdown strong', { hasText: 'MFA' }).first().waitFor();
    await page.getByText('changed the phase').last().waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'incident-closed');
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'incident-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  }, 45_000);

  it('shows the dashboard from the public API', async () => {
    const severities = ['critical', 'high', 'medium', 'low', 'high', 'medium'] as const;
    for (const [index, severity] of severities.entries()) {
      const incident = await admin.send('POST', '/incidents', {
        title: `Seeded incident ${index + 1}`,
        severity,
        category: 'malware',
      });
      if (index % 2 === 0)
        await admin.send('POST', `/incidents/${incident.id}/transitions`, { to: 'containment' });
    }
    for (const [index, source] of ['edr', 'edr', 'edr', 'firewall', 'firewall', 'mail-gateway'].entries()) {
      await admin.send('POST', '/alerts', {
        title: `Seeded alert ${index + 1}`,
        severity: 'medium',
        source,
        rule: `rule-${source}`,
      });
    }
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByRole('heading', { name: 'Open incidents by severity and phase' }).waitFor();
    await expect.poll(() => page.locator('.tile-value').first().textContent()).toBe('6');
    await page.getByText('rule-edr').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'dashboard');
    await page.getByRole('link', { name: 'Incidents', exact: true }).click();
    await page.getByRole('link', { name: 'Seeded incident 1' }).waitFor();
    await shot(page, 'incidents');
    if (process.env.FIREBREAK_UPDATE_SCREENSHOTS === '1') {
      mkdirSync(path.join(ROOT, 'docs/screenshots'), { recursive: true });
      for (const name of ['dashboard', 'incident', 'alerts']) {
        copyFileSync(path.join(SHOTS, `${name}.png`), path.join(ROOT, 'docs/screenshots', `${name}.png`));
      }
    }
    expect(cspViolations).toEqual([]);
  }, 45_000);

  it('searches events, shows the raw form beside the normalised fields, and refines by a field value', async () => {
    // Syslog stamps (no year, no zone) of a minute ago, so the "1 h" range holds them.
    const stamp = new Date(Date.now() - 60_000)
      .toUTCString()
      .replace(
        /^\w+, (\d+) (\w+) \d+ ([\d:]+) GMT$/,
        (_m, day: string, month: string, time: string) => `${month} ${day.padStart(2, ' ')} ${time}`,
      );
    const ssh = `<38>${stamp} web1 sshd[4242]: Failed password for root from 203.0.113.9 port 50022 ssh2`;
    const sudo = `<86>${stamp} db2 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls`;
    await admin.postLines([ssh, sudo], 'console-test');
    await expect
      .poll(
        async () =>
          (await admin.send('GET', '/events?limit=50')).items.filter(
            (e: { source: { name: string } }) => e.source.name === 'console-test',
          ).length,
        { timeout: 15_000 },
      )
      .toBe(2);
    await page.getByRole('link', { name: 'Events', exact: true }).click();
    await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor();
    await page.getByLabel('1 h', { exact: true }).check();
    await page.locator('#event-q').fill('user.name:root');
    await page.locator('#event-q').press('Enter');
    const rows = page.locator('tr[data-event-id]');
    await expect.poll(() => rows.count()).toBe(1);
    await rows.first().click();
    await expect.poll(() => page.getByTestId('raw-event').textContent()).toBe(ssh);
    const fields = page.getByRole('table', { name: 'Normalised fields' });
    await fields.getByRole('button', { name: 'Add source.ip:203.0.113.9 to the query' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'events');
    // A field value refines the query: the sudo line (host db2) drops out, the ssh line stays.
    await page.locator('#event-q').fill('');
    await page.locator('#event-q').press('Enter');
    await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(2);
    await page.locator('tr[data-event-id]', { hasText: 'web1' }).first().click();
    await fields.getByRole('button', { name: 'Add host.name:web1 to the query' }).click();
    await expect.poll(() => page.locator('#event-q').inputValue()).toBe('host.name:web1');
    await expect.poll(() => rows.count()).toBe(1);
    expect(new URL(page.url()).searchParams.get('q')).toBe('host.name:web1');
  }, 45_000);

  it('imports a rule, turns it off and on, and tests it against a pasted event', async () => {
    const ruleId = '0c0a5013-0000-4000-8000-00000000c0de';
    await page.getByRole('link', { name: 'Rules', exact: true }).click();
    await page.getByRole('heading', { name: 'Detection rules' }).waitFor();
    await page.getByRole('button', { name: 'Import YAML…' }).click();
    await page
      .locator('#import-yaml')
      .fill(
        [
          'title: Console root shell',
          `id: ${ruleId}`,
          'level: high',
          'logsource:',
          '  category: firebreak_console',
          'detection:',
          '  selection:',
          '    process.name: bash',
          '    user.name: root',
          '  condition: selection',
        ].join('\n'),
      );
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByLabel('Search').fill('Console root shell');
    const row = page.locator(`tr[data-rule-id="${ruleId}"]`);
    await row.waitFor();
    const toggle = page.getByRole('switch', { name: 'Enabled: Console root shell' });
    expect(await toggle.isChecked()).toBe(true);
    await toggle.click();
    await expect.poll(async () => (await admin.send('GET', `/rules/${ruleId}`)).enabled).toBe(false);
    await expect.poll(() => toggle.isChecked()).toBe(false);
    await toggle.click();
    await expect.poll(async () => (await admin.send('GET', `/rules/${ruleId}`)).enabled).toBe(true);

    await row.getByRole('button', { name: 'Console root shell' }).click();
    await page.getByRole('heading', { name: 'Test against a pasted event' }).waitFor();
    await page.getByLabel('Rule YAML').getByText('firebreak_console').waitFor();
    const event = page.getByLabel('Event (JSON: ECS fields or EVTX-JSON)');
    await event.fill('{"process.name": "bash", "user.name": "root", "host.name": "ws-7"}');
    await page.getByRole('button', { name: 'Test rule' }).click();
    const result = page.getByTestId('rule-test-result');
    await expect.poll(() => result.textContent()).toContain('Matches.');
    expect(await result.textContent()).toContain('Console root shell');
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'rules');
    await event.fill('{"process.name": "sh", "user.name": "root"}');
    await page.getByRole('button', { name: 'Test rule' }).click();
    await expect.poll(() => result.textContent()).toContain('No match.');
    await event.fill('{"process.name": ');
    await page.getByRole('button', { name: 'Test rule' }).click();
    await page.getByText('The event is not valid JSON').waitFor();
  }, 45_000);

  it('creates an integration, shows its URL and token once with an Alertmanager receiver, and the token works', async () => {
    await page.getByRole('link', { name: 'Integrations', exact: true }).click();
    await page.getByRole('heading', { name: 'Integrations', level: 1 }).waitFor();
    await page.getByLabel('Type').selectOption('alertmanager');
    await page.getByLabel('Name').fill('prometheus-prod');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    const token = (await page.locator('#integration-token').textContent())!;
    const url = (await page.locator('#integration-url').textContent())!;
    expect(token).toMatch(/^fbi_/);
    expect(url).toMatch(/\/api\/v1\/integrations\/[0-9a-f-]{36}\/webhook$/);
    const snippet = (await page.locator('#integration-snippet').textContent())!;
    expect(snippet).toContain(`url: ${url}`);
    expect(snippet).toContain(`credentials: ${token}`);
    await page.getByRole('button', { name: 'Copy the token' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'integrations');

    const alertmanager = (bearer: string) =>
      fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          version: '4',
          status: 'firing',
          receiver: 'firebreak',
          groupKey: '{}:{alertname="DiskFull"}',
          commonLabels: {},
          commonAnnotations: {},
          groupLabels: {},
          externalURL: 'http://alertmanager.local',
          alerts: [
            {
              status: 'firing',
              labels: { alertname: 'DiskFull', instance: 'db1', severity: 'warning' },
              annotations: { summary: 'Disk almost full on db1' },
              startsAt: new Date().toISOString(),
              endsAt: '0001-01-01T00:00:00Z',
              fingerprint: 'c0ffee',
            },
          ],
        }),
      });
    expect((await alertmanager(token)).status).toBe(202);

    // Rotating: the new token is shown, the old one stops working. The page then forgets it.
    await page.getByRole('button', { name: 'Rotate token: prometheus-prod' }).click();
    await page.getByRole('button', { name: 'Rotate token', exact: true }).click();
    await expect.poll(() => page.locator('#integration-token').textContent()).not.toBe(token);
    const rotated = (await page.locator('#integration-token').textContent())!;
    expect((await alertmanager(token)).status).toBe(401);
    expect((await alertmanager(rotated)).status).toBe(202);
    await page.getByRole('button', { name: 'Done' }).click();
    expect(await page.locator('#integration-token').count()).toBe(0);
    expect(await page.getByText(rotated).count()).toBe(0);
  }, 45_000);

  it('windows a long timeline: a list with positions, keyboard moves, one-click observables, live entries, no shift', async () => {
    const incident = await admin.send('POST', '/incidents', {
      title: 'Long timeline',
      severity: 'medium',
      category: 'malware',
    });
    const base = `/incidents/${incident.id as string}`;
    for (let start = 0; start < 120; start += 20) {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          admin.send('POST', `${base}/tasks`, { title: `Step ${start + i}` }),
        ),
      );
    }
    // An alert merged last: its payload (with an unknown IP) is the timeline's newest entry.
    const alert = await admin.send('POST', '/alerts', {
      title: 'Beacon to a rare address',
      severity: 'high',
      source: 'suricata',
      payload: { destination: { ip: '198.51.100.77' } },
    });
    await admin.send('POST', `${base}/alerts`, { alert_ids: [alert.id] });

    await page.goto(`${server.url}${base}`);
    const items = page.locator('.timeline .timeline-item');
    await items.first().waitFor();
    const total = Number(await items.first().getAttribute('aria-setsize'));
    expect(total).toBeGreaterThanOrEqual(122);
    expect(await items.first().getAttribute('aria-posinset')).toBe('1');
    // Only the entries in view (and a few either side) are in the DOM, and they are list items.
    expect(await items.count()).toBeLessThan(40);
    const region = page.getByRole('region', { name: 'Timeline entries' });
    expect(await region.getByRole('list').first().getAttribute('class')).toContain('timeline');
    expect(await region.getByRole('listitem').first().getAttribute('aria-posinset')).toBe('1');
    expect(await seriousViolations(page)).toEqual([]);

    // Where the Notes card starts in the document (not the viewport: clicks may scroll the page).
    const notesTop = () =>
      page
        .getByRole('heading', { name: 'Notes', exact: true })
        .evaluate((el) => el.getBoundingClientRect().top + el.ownerDocument.defaultView!.scrollY);
    const before = await notesTop();

    // Keyboard: End goes to the last entry (rendered on demand), Page Up to the one before it.
    await items.first().focus();
    await page.keyboard.press('End');
    const focused = page.locator('.timeline .timeline-item:focus');
    await expect.poll(() => focused.getAttribute('aria-posinset')).toBe(String(total));
    await page.keyboard.press('PageUp');
    await expect.poll(() => focused.getAttribute('aria-posinset')).toBe(String(total - 1));
    await page.keyboard.press('PageDown');
    await expect.poll(() => focused.getAttribute('aria-posinset')).toBe(String(total));

    // The one-click button in the newest entry works; focus stays on its entry when the button goes.
    const add = page.getByRole('button', { name: 'Add 198.51.100.77 as ip observable' });
    await add.click();
    await page.getByRole('list', { name: 'Observables' }).getByText('198.51.100.77').waitFor();
    await expect.poll(() => add.count()).toBe(0);
    await expect
      .poll(() =>
        page.evaluate(
          "document.activeElement?.closest('.timeline-item')?.getAttribute('aria-posinset') ?? null",
        ),
      )
      .not.toBeNull();

    // At the end, a new entry from someone else scrolls into view; the rest of the page does not move.
    await admin.send('POST', `${base}/tasks`, { title: 'Arrived live at the end' });
    const live = page.locator('.timeline .timeline-item', { hasText: 'Arrived live at the end' });
    await live.waitFor();
    await expect.poll(() => live.getAttribute('aria-posinset')).toBe(String(total + 2));
    const box = (await page.locator('.timeline-scroll').boundingBox())!;
    const liveBox = (await live.boundingBox())!;
    expect(liveBox.y).toBeGreaterThanOrEqual(box.y - 1);
    expect(liveBox.y + liveBox.height).toBeLessThanOrEqual(box.y + box.height + 1);
    expect(await notesTop()).toBe(before);

    // Reading from the top, a live entry does not move what is shown.
    await page.locator('.timeline-scroll').evaluate((el) => el.scrollTo({ top: 0 }));
    await expect.poll(() => items.first().getAttribute('aria-posinset')).toBe('1');
    await admin.send('POST', `${base}/tasks`, { title: 'Arrived live while reading the top' });
    await expect.poll(() => items.first().getAttribute('aria-setsize')).toBe(String(total + 3));
    expect(await page.locator('.timeline-scroll').evaluate((el) => el.scrollTop)).toBe(0);
    expect(await notesTop()).toBe(before);

    // The side lists fold long content: the first 50 of 122 tasks, the rest on request.
    const tasks = page.locator('ul.tasks > li');
    expect(await tasks.count()).toBe(50);
    await page.getByRole('button', { name: 'Show 72 more tasks' }).click();
    await expect.poll(() => tasks.count()).toBe(122);
    expect(await seriousViolations(page)).toEqual([]);
  }, 45_000);

  it('gives a viewer no write buttons, refuses a forced write with 403, and returns to sign-in after the session ends', async () => {
    await admin.send('POST', '/users', {
      email: 'vera@example.test',
      name: 'Vera Viewer',
      role: 'viewer',
      password: PASSWORD,
    });
    const viewerContext = await browser.newContext({ viewport: VIEWPORT });
    const viewer = await viewerContext.newPage();
    try {
      await viewer.goto(incidentUrl);
      await signIn(viewer, 'vera@example.test', PASSWORD);
      await viewer.getByRole('heading', { name: 'Impossible travel for jdoe', level: 1 }).waitFor();
      await viewer.getByRole('heading', { name: 'Timeline' }).waitFor();
      expect(await viewer.locator('button.step-button, button.add-observable').count()).toBe(0);
      expect(await viewer.getByRole('button', { name: /Acknowledge|Add note|^Add$/ }).count()).toBe(0);
      expect(await viewer.getByRole('form', { name: 'Add a note' }).count()).toBe(0);

      await viewer.getByRole('link', { name: 'Alerts', exact: true }).click();
      await viewer.getByRole('heading', { name: 'Alert queue' }).waitFor();
      await viewer.locator('tbody tr[data-alert-id]').first().waitFor();
      expect(await viewer.getByRole('toolbar', { name: 'Alert actions' }).count()).toBe(0);
      expect(await viewer.getByRole('link', { name: 'Users' }).count()).toBe(0);
      await viewer.getByRole('link', { name: 'Incidents', exact: true }).click();
      await viewer.getByRole('heading', { name: 'Incidents', level: 1 }).waitFor();
      expect(await viewer.getByRole('button', { name: 'New incident' }).count()).toBe(0);
      expect(await viewer.getByRole('link', { name: 'Integrations' }).count()).toBe(0);

      await viewer.getByRole('link', { name: 'Rules', exact: true }).click();
      await viewer.locator('tr[data-rule-id]').first().waitFor();
      expect(await viewer.getByRole('switch').count()).toBe(0);
      expect(
        await viewer.getByRole('button', { name: /Import|Lift|Add suppression|Save policy/ }).count(),
      ).toBe(0);
      expect(await viewer.getByLabel('Level override').count()).toBe(0);
      await viewer.locator('tr[data-rule-id]').first().getByRole('button').click();
      await viewer.getByRole('button', { name: 'Test rule' }).waitFor();
      await viewer.getByRole('link', { name: 'Incidents', exact: true }).click();
      await viewer.getByRole('heading', { name: 'Incidents', level: 1 }).waitFor();

      const seeded = (await admin.send('GET', '/alerts?status=new&limit=1')).items[0].id as string;
      const status = await viewer.evaluate(async (id) => {
        const session = (await (await fetch('/api/v1/auth/session')).json()) as { csrf_token: string };
        const res = await fetch('/api/v1/alerts/status', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrf_token },
          body: JSON.stringify({ alert_ids: [id], status: 'acknowledged' }),
        });
        return res.status;
      }, seeded);
      expect(status).toBe(403);
      expect((await admin.send('GET', `/alerts/${seeded}`)).status).toBe('new');

      // The session ends behind the page's back: the next request answers 401 and the console asks to
      // sign in again, then returns to the same page.
      await viewer.evaluate(async () => {
        const session = (await (await fetch('/api/v1/auth/session')).json()) as { csrf_token: string };
        await fetch('/api/v1/auth/logout', {
          method: 'POST',
          headers: { 'x-csrf-token': session.csrf_token },
        });
      });
      await viewer.getByLabel('Search').fill('Seeded');
      await viewer.getByText('Sign in again to continue where you were').waitFor();
      expect(new URL(viewer.url()).pathname).toBe('/incidents');
      await signIn(viewer, 'vera@example.test', PASSWORD);
      await viewer.getByRole('heading', { name: 'Incidents', level: 1 }).waitFor();
      expect(new URL(viewer.url()).pathname).toBe('/incidents');
    } finally {
      await viewerContext.close();
    }
  }, 45_000);
});

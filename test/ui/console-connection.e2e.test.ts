import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page, type WebSocketRoute } from 'playwright-core';
import { Role } from '../../src/permissions/roles';
import { UiTestRaiseAlertDocument } from '../generated/graphql';
import { createUser, signIn, type TestUser } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';

/** Debian's Chromium (`apt-get install -y chromium`); the test fails, never skips, without it. */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '..', 'artifacts');

jest.setTimeout(120_000);

function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium to run the browser tests`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

async function signInOnPage(page: Page, user: TestUser): Promise<void> {
  await page.fill('.vigil-signin input[name=email]', user.email);
  await page.fill('.vigil-signin input[name=password]', user.password);
  await page.click('.vigil-signin button[type=submit]');
  await page.waitForSelector(`[data-testid=me-email]:has-text("${user.email}")`);
}

describe('the console when its websocket drops, in headless Chromium against a real gateway', () => {
  let server: TestServer;
  let browser: Browser;
  let origin: string;
  let admin: TestUser;
  let adminToken: string;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startTestServer();
    origin = new URL(server.url).origin;
    admin = await createUser(server, Role.ADMIN, { name: 'Connie Connection' });
    adminToken = (await signIn(server, admin.email, admin.password)).accessToken;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function raiseAlert(title: string): Promise<string> {
    const res = await graphql(
      server.url,
      UiTestRaiseAlertDocument,
      { input: { level: 'ERROR', title, message: 'raised by the connection test', source: 'e2e', fingerprint: `conn-${randomBytes(6).toString('hex')}` } },
      { token: adminToken },
    );
    expect(res.errors).toBeUndefined();
    return res.data!.raiseAlert.id;
  }

  it('says it is disconnected over every panel (health unknown, actions disabled), then recovers', async () => {
    const alertId = await raiseAlert(`connection test ${randomBytes(4).toString('hex')}`);
    // An escalated alert shows as such.
    await server.orm.em.fork().getConnection().execute('update alert set escalation_level = 2 where id = ?', [alertId]);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    // The websocket goes through a route the test can cut and refuse while "the network is down".
    let networkDown = false;
    const sockets: WebSocketRoute[] = [];
    await page.routeWebSocket(/\/graphql$/, (ws) => {
      if (networkDown) {
        void ws.close({ code: 1011, reason: 'network down (test)' });
        return;
      }
      sockets.push(ws);
      ws.connectToServer();
    });
    await page.goto(`${origin}/console`);
    await signInOnPage(page, admin);
    const row = page.locator(`tr[data-alert-id="${alertId}"]`);
    await row.waitFor();
    // Signing in replaced the anonymous live connection: the row is there before the signed-in
    // connection is live, and health is unknown until it is.
    await page.waitForSelector('[data-testid=live-state]:text-is("live")');
    await page.locator('[data-testid=health-status]:text-is("UP")').waitFor();
    await expect(row.getByRole('button', { name: 'Acknowledge' }).isEnabled()).resolves.toBe(true);
    await expect(row.locator('[data-testid=alert-escalated]').textContent()).resolves.toBe('escalated ×2');
    // Times carry their date.
    await expect(row.locator('td.when').textContent()).resolves.toContain(String(new Date().getFullYear()));
    const checkedBefore = await page.locator('[data-testid=health-checked-at]').getAttribute('datetime');

    networkDown = true;
    for (const ws of sockets.splice(0)) await ws.close({ code: 1011, reason: 'network down (test)' });
    await page.waitForSelector('[data-testid=disconnected]');
    await expect(page.locator('[data-testid=live-state]').textContent()).resolves.toMatch(/disconnected/);
    await expect(page.locator('[data-testid=health-status]').textContent()).resolves.toBe('UNKNOWN');
    await expect(page.locator('[data-testid=health-components] .badge').allTextContents()).resolves.toEqual(expect.arrayContaining(['UNKNOWN']));
    await expect(page.locator('[data-testid=health-components] .badge:text-is("UP")').count()).resolves.toBe(0);
    // Every panel says so.
    const panels = await page.locator('main > section.panel, main > fieldset').count();
    await expect(page.locator('[data-testid=stale-note]').count()).resolves.toBe(panels);
    await expect(row.getByRole('button', { name: 'Acknowledge' }).isDisabled()).resolves.toBe(true);
    await expect(row.getByRole('button', { name: 'Resolve' }).isDisabled()).resolves.toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-disconnected.png'), fullPage: true });

    // The network comes back: the console reconnects on its own (1 s, 2 s, … backoff) and is usable again.
    networkDown = false;
    await page.waitForSelector('[data-testid=live-state]:has-text("live")', { timeout: 30_000 });
    await page.waitForSelector('[data-testid=disconnected]', { state: 'detached' });
    await expect(page.locator('[data-testid=health-status]').textContent()).resolves.toBe('UP');
    await expect(page.locator('[data-testid=stale-note]').count()).resolves.toBe(0);
    await expect(row.getByRole('button', { name: 'Acknowledge' }).isEnabled()).resolves.toBe(true);
    // "checked at" is the last check (asked again on reconnecting), not the last change of status.
    await page.waitForFunction(
      (before) => {
        const doc = (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(n: string): string | null } | null } }).document;
        return (doc.querySelector('[data-testid=health-checked-at]')?.getAttribute('datetime') ?? '') > (before ?? '');
      },
      checkedBefore,
    );
    await row.getByRole('button', { name: 'Acknowledge' }).click();
    await page.waitForSelector(`tr[data-alert-id="${alertId}"][data-status=ACKNOWLEDGED]`);
    await context.close();
  });

  it('fits a 360 px wide phone without sideways scrolling', async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await page.goto(`${origin}/console`);
    await signInOnPage(page, admin);
    await page.waitForSelector('[data-testid=live-state]:has-text("live")');
    await page.locator('tr[data-alert-id]').first().waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-360.png'), fullPage: true });
    const widths = await page.evaluate(() => {
      const w = globalThis as unknown as { innerWidth: number; document: { documentElement: { scrollWidth: number }; body: { scrollWidth: number } } };
      return { page: w.document.documentElement.scrollWidth, body: w.document.body.scrollWidth, viewport: w.innerWidth };
    });
    expect(widths.page).toBeLessThanOrEqual(widths.viewport);
    expect(widths.body).toBeLessThanOrEqual(widths.viewport);
    await context.close();
  });

  it('serves a favicon and a home page that links the IDE, the console, /health and the docs', async () => {
    const ico = await fetch(`${origin}/favicon.ico`);
    expect(ico.status).toBe(200);
    expect(ico.headers.get('content-type')).toBe('image/x-icon');
    const bytes = Buffer.from(await ico.arrayBuffer());
    expect([...bytes.subarray(0, 4)]).toEqual([0, 0, 1, 0]);

    const context = await browser.newContext();
    const page = await context.newPage();
    const response = await page.goto(`${origin}/`);
    expect(response?.status()).toBe(200);
    const hrefs = await page.locator('a').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
    expect(hrefs).toEqual(expect.arrayContaining(['/graphql', '/console', '/health', '/docs']));
    await page.click('a[href="/docs"]');
    await expect(page.locator('body').textContent()).resolves.toContain('# Vigil');
    await page.goto(`${origin}/console`);
    const icon = await page.locator('link[rel=icon]').getAttribute('href');
    expect((await fetch(`${origin}${icon}`)).status).toBe(200);
    await context.close();
  });
});

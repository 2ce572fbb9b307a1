import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Role } from '../../src/permissions/roles';
import { UiTestAlertDocument, UiTestMeDocument, UiTestRaiseAlertDocument } from '../generated/graphql';
import { createUser, signIn, type TestUser } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';

/** Debian's Chromium (`apt-get install -y chromium`); the test fails, never skips, without it. */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '..', 'artifacts');

jest.setTimeout(120_000);

/** Repeats `attempt` (with a short pause between tries) until it returns true or 20 s have passed. */
async function eventually(attempt: () => Promise<boolean>, timeoutMs = 20_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let pause = 250; ; pause = Math.min(pause * 2, 2000)) {
    if (await attempt()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

/** A CodeMirror 5 editor's host element, as GraphiQL 4 renders it. */
interface CodeMirrorHost {
  CodeMirror: { getValue(): string; setValue(value: string): void };
}

/** Debian's Chromium, headless, with everything that would phone home switched off. */
function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium) to run the browser tests`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** The access token the page holds in its tab's sessionStorage. */
function pageAccessToken(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const storage = (globalThis as unknown as { sessionStorage: { getItem(key: string): string | null } }).sessionStorage;
    const raw = storage.getItem('vigil.session');
    return raw ? (JSON.parse(raw) as { accessToken: string }).accessToken : null;
  });
}

interface SeenRequest {
  url: string;
  kind: 'http' | 'websocket';
}

describe('the browser tools, driven in headless Chromium against a real gateway', () => {
  let server: TestServer;
  let browser: Browser;
  let origin: string;
  let admin: TestUser;
  let viewer: TestUser;
  let adminToken: string;
  const seen: SeenRequest[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startTestServer();
    origin = new URL(server.url).origin;
    admin = await createUser(server, Role.ADMIN, { name: 'Ada Admin' });
    viewer = await createUser(server, Role.VIEWER, { name: 'Vic Viewer' });
    adminToken = (await signIn(server, admin.email, admin.password)).accessToken;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.on('request', (request) => seen.push({ url: request.url(), kind: 'http' }));
    page.on('websocket', (ws) => seen.push({ url: ws.url(), kind: 'websocket' }));
    page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
    page.on('console', (msg) => {
      // CSP violations are reported as console errors: the pages must work under the gateway's policy.
      if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) pageErrors.push(`${page.url()}: ${msg.text()}`);
    });
    return { context, page };
  }

  async function raiseAlert(level: 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL', title: string): Promise<string> {
    const res = await graphql(
      server.url,
      UiTestRaiseAlertDocument,
      { input: { level, title, message: 'raised by the browser test', source: 'e2e', fingerprint: `e2e-${randomBytes(6).toString('hex')}` } },
      { token: adminToken },
    );
    expect(res.errors).toBeUndefined();
    return res.data!.raiseAlert.id;
  }

  /** The text of one of GraphiQL's CodeMirror editors. */
  const editorValue = (page: Page, selector: string) => page.locator(selector).evaluate((el: unknown) => (el as CodeMirrorHost).CodeMirror.getValue());
  const setEditorValue = (page: Page, selector: string, value: string) =>
    page.locator(selector).evaluate((el: unknown, text: string) => (el as CodeMirrorHost).CodeMirror.setValue(text), value);
  const responseContains = (page: Page, text: string) =>
    eventually(async () => (await editorValue(page, '.graphiql-response .CodeMirror')).includes(text));

  async function signInOnPage(page: Page, user: TestUser): Promise<void> {
    await page.fill('.vigil-signin input[name=email]', user.email);
    await page.fill('.vigil-signin input[name=password]', user.password);
    await page.click('.vigil-signin button[type=submit]');
    await page.waitForSelector(`[data-testid=me-email]:has-text("${user.email}")`);
  }

  it('opens the GraphQL IDE at /graphql and runs a query from a link', async () => {
    const { context, page } = await newPage();
    const query = '{ health { status } }';
    const response = await page.goto(`${origin}/graphql?query=${encodeURIComponent(query)}`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.waitForSelector('.graphiql-container .graphiql-query-editor .CodeMirror');
    expect(await editorValue(page, '.graphiql-query-editor .CodeMirror')).toBe(query);
    await page.click('.graphiql-execute-button');
    expect(await responseContains(page, '"status"')).toBe(true);
    const result = JSON.parse(await editorValue(page, '.graphiql-response .CodeMirror')) as { data: { health: { status: string } } };
    expect(result.data.health.status).toMatch(/^(UP|DEGRADED|DOWN)$/);
    // The schema documentation comes from introspection through the same fetcher.
    await page.click('button[aria-label="Show Documentation Explorer"]');
    await page.waitForSelector('.graphiql-doc-explorer :text("Query")');
    await page.screenshot({ path: path.join(ARTIFACTS, 'ide-query.png') });
    await context.close();
  });

  it('signs in inside the IDE and sends the token over HTTP and over the websocket', async () => {
    const { context, page } = await newPage();
    await page.goto(`${origin}/graphql?query=${encodeURIComponent('{ me { email role } }')}`);
    await page.waitForSelector('.graphiql-query-editor .CodeMirror');
    await signInOnPage(page, admin);
    await page.click('.graphiql-execute-button');
    expect(await responseContains(page, '"role"')).toBe(true);
    const me = JSON.parse(await editorValue(page, '.graphiql-response .CodeMirror')) as { data: { me: { email: string; role: string } } };
    expect(me.data.me).toEqual({ email: admin.email, role: 'ADMIN' });

    // A subscription needs a signed-in websocket (connectionParams.authorization).
    await setEditorValue(page, '.graphiql-query-editor .CodeMirror', 'subscription IdeAlerts { alertRaised(minLevel: INFO) { title level status } }');
    // GraphiQL parses an edit after a short debounce; the tab takes the operation's name once it has.
    await page.waitForSelector('.graphiql-tab:has-text("IdeAlerts")');
    await page.click('.graphiql-execute-button');
    const title = `IDE subscription ${randomBytes(4).toString('hex')}`;
    // The subscription is registered once the server has handled `subscribe`: raise until the
    // stream shows one (each raise is a new alert), instead of sleeping for a guessed time.
    const shown = await eventually(async () => {
      await raiseAlert('WARNING', title);
      return (await editorValue(page, '.graphiql-response .CodeMirror')).includes(title);
    });
    await page.screenshot({ path: path.join(ARTIFACTS, 'ide-subscription.png') });
    expect(shown).toBe(true);
    await context.close();
  });

  it('shows an ADMIN the live console: health per component, an alert raised through the API, acknowledged then resolved from the page', async () => {
    const { context, page } = await newPage();
    const response = await page.goto(`${origin}/console`);
    expect(response?.status()).toBe(200);
    await signInOnPage(page, admin);
    await expect(page.textContent('[data-testid=me-role]')).resolves.toBe('ADMIN');
    await page.waitForSelector('[data-testid=live-state]:has-text("live")');
    await page.waitForSelector('[data-testid=health-components] td:has-text("database")');
    await expect(page.textContent('[data-testid=health-status]')).resolves.toMatch(/^(UP|DEGRADED|DOWN)$/);

    const title = `Disk encryption disabled on db-7 ${randomBytes(4).toString('hex')}`;
    const id = await raiseAlert('CRITICAL', title);
    const row = page.locator(`tr[data-alert-id="${id}"]`);
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain(title);
    await expect(row.getAttribute('data-status')).resolves.toBe('ACTIVE');
    await expect(row.locator('.badge.level-critical').textContent()).resolves.toBe('CRITICAL');
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-admin-alert.png') });

    await row.locator('button:has-text("Acknowledge")').click();
    await page.waitForSelector(`tr[data-alert-id="${id}"][data-status="ACKNOWLEDGED"]`);
    await expect(row.textContent()).resolves.toContain("by Ada Admin");
    await expect(row.locator('button:has-text("Acknowledge")').count()).resolves.toBe(0);
    await expect(row.locator('button:has-text("Resolve")').count()).resolves.toBe(1);
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-admin-acknowledged.png') });

    await row.locator('button:has-text("Resolve")').click();
    await row.locator('input[aria-label=resolution]').fill('encryption re-enabled');
    await row.locator('button:has-text("Confirm")').click();
    await page.waitForSelector(`tr[data-alert-id="${id}"][data-status="RESOLVED"]`);
    await expect(row.locator('button').count()).resolves.toBe(0);

    // The change is on the server, not only on the page.
    const check = await graphql(server.url, UiTestAlertDocument, { id }, { token: adminToken });
    expect(check.data?.alert).toEqual({ status: 'RESOLVED', resolution: 'encryption re-enabled', acknowledgedBy: { email: admin.email } });
    await context.close();
  });

  it('resumes the alert stream after a disconnect with `after`: nothing raised in between is lost', async () => {
    const { context, page } = await newPage();
    await page.goto(`${origin}/console`);
    await signInOnPage(page, admin);
    await page.waitForSelector('[data-testid=live-state]:has-text("live")');
    const before = await raiseAlert('INFO', `before the gap ${randomBytes(4).toString('hex')}`);
    await page.locator(`tr[data-alert-id="${before}"]`).waitFor();

    await page.click('[data-testid=pause]');
    await page.waitForSelector('[data-testid=live-state]:has-text("paused")');
    const during = await raiseAlert('ERROR', `raised while disconnected ${randomBytes(4).toString('hex')}`);
    await page.click('[data-testid=reconnect]');
    await page.waitForSelector('[data-testid=live-state]:has-text("live")');
    await page.locator(`tr[data-alert-id="${during}"]`).waitFor();
    await expect(page.locator(`tr[data-alert-id="${during}"] .badge.level-error`).textContent()).resolves.toBe('ERROR');
    await context.close();
  });

  it('shows a VIEWER the alerts but no acknowledge or resolve buttons, and no component details', async () => {
    const { context, page } = await newPage();
    await page.goto(`${origin}/console`);
    await signInOnPage(page, viewer);
    await expect(page.textContent('[data-testid=me-role]')).resolves.toBe('VIEWER');
    await page.waitForSelector('[data-testid=live-state]:has-text("live")');
    await page.waitForSelector('[data-testid=health-components-hidden]');
    await expect(page.locator('[data-testid=health-components]').count()).resolves.toBe(0);

    const title = `Viewer sees this ${randomBytes(4).toString('hex')}`;
    const id = await raiseAlert('WARNING', title);
    await page.locator(`tr[data-alert-id="${id}"]`).waitFor();
    expect(await page.locator('[data-testid=alert-row]').count()).toBeGreaterThan(1);
    await expect(page.locator('button:has-text("Acknowledge")').count()).resolves.toBe(0);
    await expect(page.locator('button:has-text("Resolve")').count()).resolves.toBe(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-viewer.png') });
    await context.close();
  });

  it('made no request to any host other than the gateway, and broke no content security policy', () => {
    const gateway = new URL(origin);
    expect(seen.length).toBeGreaterThan(10);
    expect(seen.filter((r) => r.kind === 'websocket').length).toBeGreaterThan(0);
    const foreign = seen.filter(({ url }) => {
      const u = new URL(url);
      if (u.protocol === 'data:' || u.protocol === 'blob:') return false;
      return u.host !== gateway.host || !['http:', 'ws:'].includes(u.protocol);
    });
    expect(foreign).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

describe('the console holding a session for longer than an access token lives', () => {
  let server: TestServer;
  let browser: Browser;
  let admin: TestUser;

  beforeAll(async () => {
    browser = await launchChromium();
    // 30 s tokens: the page refreshes 5 s after signing in (a minute before expiry, at least 5 s).
    server = await startTestServer({ env: { VIGIL_ACCESS_TOKEN_TTL_SECONDS: '30' } });
    admin = await createUser(server, Role.ADMIN);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('refreshes the session before the token expires, keeps working, and ends the session on the gateway at sign-out', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${new URL(server.url).origin}/console`);
    await page.fill('.vigil-signin input[name=email]', admin.email);
    await page.fill('.vigil-signin input[name=password]', admin.password);
    await page.click('.vigil-signin button[type=submit]');
    await page.waitForSelector(`[data-testid=me-email]:has-text("${admin.email}")`);
    const first = await pageAccessToken(page);
    expect(first).toEqual(expect.any(String));

    expect(await eventually(async () => (await pageAccessToken(page)) !== first, 30_000)).toBe(true);
    const second = await pageAccessToken(page);
    await page.waitForSelector('[data-testid=live-state]:has-text("live")');

    const token = (await signIn(server, admin.email, admin.password)).accessToken;
    const raised = await graphql(server.url, UiTestRaiseAlertDocument, { input: { level: 'WARNING', title: 'after the refresh' } }, { token });
    const id = raised.data!.raiseAlert.id;
    await page.locator(`tr[data-alert-id="${id}"] button:has-text("Acknowledge")`).click();
    await page.waitForSelector(`tr[data-alert-id="${id}"][data-status="ACKNOWLEDGED"]`);

    await page.click('.vigil-signin button:has-text("Sign out")');
    await page.waitForSelector('.vigil-signin input[name=email]');
    expect(await pageAccessToken(page)).toBeNull();
    const after = await graphql(server.url, UiTestMeDocument, {}, { token: second! });
    expect(after.data?.me ?? null).toBeNull();
    await context.close();
  });
});

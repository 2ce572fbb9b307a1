import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Role } from '../../src/permissions/roles';
import { createUser, signIn, type TestUser } from '../helpers/auth';
import { startTestServer, type TestServer } from '../helpers/server';
import { updateSettings } from './helpers';

/** Debian's Chromium; the test fails, never skips, without it. */
const CHROMIUM = '/usr/bin/chromium';

jest.setTimeout(120_000);

describe('the settings in the console, in headless Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let origin: string;
  let superAdmin: TestUser;
  let admin: TestUser;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    server = await startTestServer({ env: { VIGIL_HEALTH_INTERVAL_MS: '0' } });
    origin = new URL(server.url).origin;
    superAdmin = await createUser(server, Role.SUPER_ADMIN, { name: 'Sue Super' });
    admin = await createUser(server, Role.ADMIN, { name: 'Ada Admin' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  afterEach(() => expect(pageErrors).toEqual([]));

  async function consoleAs(user: TestUser): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${origin}/console`);
    await page.fill('.vigil-signin input[name=email]', user.email);
    await page.fill('.vigil-signin input[name=password]', user.password);
    await page.click('.vigil-signin button[type=submit]');
    await page.waitForSelector(`[data-testid=me-email]:has-text("${user.email}")`);
    await page.waitForSelector('[data-testid=settings-version]');
    return page;
  }

  it('lets a SUPER_ADMIN edit a setting with the version check, and shows it to an ADMIN read-only', async () => {
    const page = await consoleAs(superAdmin);
    const version = server.services.settings.current().version;
    await expect(page.textContent('[data-testid=settings-version]')).resolves.toBe(`version ${version}`);
    const field = page.locator('[data-testid="setting-protection.anonymousRequestLimit"]');
    await field.fill('4242');
    await page.click('[data-testid=settings-save]');
    await page.waitForSelector(`[data-testid=settings-version]:has-text("version ${version + 1}")`);
    await expect(page.textContent('[data-testid="source-protection.anonymousRequestLimit"]')).resolves.toBe('STORED');
    await expect(field.inputValue()).resolves.toBe('4242');
    expect(server.services.settings.values.protection.anonymousRequestLimit).toBe(4242);

    // Someone else changes the settings meanwhile: the page's save is refused and it shows theirs.
    const other = await signIn(server, superAdmin.email, superAdmin.password);
    expect((await updateSettings(server.url, other.accessToken, { alerts: { cooldownSeconds: 77 } })).errors).toBeUndefined();
    await field.fill('1111');
    await page.click('[data-testid=settings-save]');
    await page.waitForSelector('[data-testid=settings-notice]:has-text("Someone changed the settings meanwhile")');
    await expect(page.textContent('[data-testid=settings-version]')).resolves.toBe(`version ${version + 2}`);
    await expect(field.inputValue()).resolves.toBe('4242');
    await expect(page.locator('[data-testid="setting-alerts.cooldownSeconds"]').inputValue()).resolves.toBe('77');
    expect(server.services.settings.values.protection.anonymousRequestLimit).toBe(4242);
    await page.context().close();

    const readOnly = await consoleAs(admin);
    await readOnly.waitForSelector('[data-testid=settings-read-only]');
    const shown = readOnly.locator('[data-testid="setting-protection.anonymousRequestLimit"]');
    await expect(shown.textContent()).resolves.toBe('4242');
    await expect(shown.evaluate((el) => el.tagName)).resolves.toBe('SPAN');
    await expect(readOnly.locator('[data-testid=settings-panel] input, [aria-label=Settings] input').count()).resolves.toBe(0);
    await expect(readOnly.locator('[data-testid=settings-save]').count()).resolves.toBe(0);
    await readOnly.context().close();
  });
});

import { existsSync } from 'node:fs';
import { authenticator } from 'otplib';
import { chromium, type Browser } from 'playwright-core';
import { Role } from '../../src/permissions/roles';
import { createUser } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';

/** Debian's Chromium; the test fails, never skips, without it. */
const CHROMIUM = '/usr/bin/chromium';

jest.setTimeout(120_000);

describe('enrolling a required second factor in the console, in headless Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    server = await startTestServer({ env: { VIGIL_HEALTH_INTERVAL_MS: '0', VIGIL_MFA_REQUIRED_ROLES: 'ANALYST' } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('holds an ANALYST without one to the enrolment, then gives the console its rights once it is confirmed', async () => {
    const analyst = await createUser(server, Role.ANALYST, { name: 'Ann Analyst' });
    const page = await (await browser.newContext()).newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${new URL(server.url).origin}/console`);
    await page.fill('.vigil-signin input[name=email]', analyst.email);
    await page.fill('.vigil-signin input[name=password]', analyst.password);
    await page.click('.vigil-signin button[type=submit]');
    await page.waitForSelector('[data-testid=mfa-enrolment]');
    // Held back: the alert stream is not offered.
    await page.waitForSelector('[data-testid=alerts-signed-out]');

    await page.click('[data-testid=mfa-enrolment] button');
    const secret = (await page.textContent('[data-testid=mfa-secret]'))!.trim();
    await page.fill('[data-testid=mfa-enrolment] input[name=mfa-code]', authenticator.generate(secret));
    await page.click('[data-testid=mfa-enrolment] button[type=submit]');
    await page.waitForSelector('[data-testid=mfa-recovery-codes]');
    await expect(page.locator('[data-testid=mfa-recovery-codes] li').count()).resolves.toBe(10);
    await page.click('[data-testid=mfa-enrolment] button');

    // The same session now has the role's rights: the enrolment is gone and the alert stream is offered.
    await page.waitForSelector('[data-testid=mfa-enrolment]', { state: 'detached' });
    await page.waitForSelector('[data-testid=alerts-empty], [data-testid=alerts]');
    const [row] = await server.orm.em.fork().getConnection().execute<{ mfa_enabled: boolean }[]>('select mfa_enabled from "user" where id = ?', [analyst.id]);
    expect(row?.mfa_enabled).toBe(true);
    const token = await page.evaluate(() => {
      const storage = (globalThis as unknown as { sessionStorage: { getItem(key: string): string | null } }).sessionStorage;
      return (JSON.parse(storage.getItem('vigil.session')!) as { accessToken: string }).accessToken;
    });
    const after = await graphql<{ myPermissions: string[] }>(server.url, '{ myPermissions }', {}, { token });
    expect(after.data?.myPermissions).toContain('READ_INVESTIGATIONS');
    expect(pageErrors).toEqual([]);
  });
});

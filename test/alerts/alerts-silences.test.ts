import { AlertLevel } from '../../src/entities/alert.entity';
import { Role } from '../../src/permissions/roles';
import { isAlertSilenced } from '../../src/services/alerts/alert-silences';
import { SilenceAlertsDocument } from '../generated/graphql';
import { createUser, signIn } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';
import { QUIET_ENV } from './helpers';

const code = (res: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => res.errors?.[0]?.extensions?.code;

describe('silences of alerts', () => {
  let server: TestServer;
  let analyst: string;
  let admin: string;
  const MAX = 3600;
  beforeAll(async () => {
    server = await startTestServer({ env: { ...QUIET_ENV, VIGIL_RATE_LIMIT_ENABLED: 'false', VIGIL_ALERT_SILENCE_MAX_SECONDS: String(MAX) } });
    const a = await createUser(server, Role.ANALYST);
    analyst = (await signIn(server, a.email, a.password)).accessToken;
    const b = await createUser(server, Role.ADMIN);
    admin = (await signIn(server, b.email, b.password)).accessToken;
  });
  afterAll(() => server.close());

  it.each([
    ['the security source', { source: 'security' }],
    ['no source (it matches every source)', { level: 'WARNING' as const }],
    ['a security fingerprint', { fingerprint: 'security:denials:someone' }],
  ])('refuses an ANALYST a silence of %s with FORBIDDEN, and nothing is stored', async (_what, matcher) => {
    const res = await graphql(server.url, SilenceAlertsDocument, { matcher, reason: 'quiet please' }, { token: analyst });
    expect(code(res)).toBe('FORBIDDEN');
    expect(res.data?.silenceAlerts ?? null).toBeNull();
    const rows = await server.orm.em.fork().getConnection().execute(`select 1 from alert_silence where reason = 'quiet please'`);
    expect(rows).toEqual([]);
  });

  it('lets an ANALYST silence another source, for at most the maximum duration', async () => {
    const ok = await graphql(server.url, SilenceAlertsDocument, { matcher: { source: 'health' } }, { token: analyst });
    expect(ok.errors).toBeUndefined();
    // Without `until`: until a matching alert resolves, and no longer than the maximum after it was made.
    const sql = server.orm.em.fork().getConnection();
    const probe = { source: 'health', level: AlertLevel.INFO, fingerprint: 'f', labels: {} };
    await sql.execute(`update alert_silence set created_at = now() - make_interval(secs => ?) where source = 'health'`, [MAX - 60]);
    expect(await isAlertSilenced(server.orm, probe, MAX)).toBe(true);
    await sql.execute(`update alert_silence set created_at = now() - make_interval(secs => ?) where source = 'health'`, [MAX + 1]);
    expect(await isAlertSilenced(server.orm, probe, MAX)).toBe(false);
    const tooLong = await graphql(
      server.url,
      SilenceAlertsDocument,
      { matcher: { source: 'health' }, until: new Date(Date.now() + 2 * MAX * 1000).toISOString() },
      { token: analyst },
    );
    expect(code(tooLong)).toBe('BAD_USER_INPUT');
    const entry = await server.orm.em
      .fork()
      .getConnection()
      .execute<{ action: string }[]>(`select action from audit_log where action = 'ALERT_SILENCE' and resource_id = ?`, [ok.data!.silenceAlerts.id]);
    expect(entry).toHaveLength(1);
  });

  it('an ADMIN may silence security alerts; the silence is audited, bounded, and raises its own WARNING alert', async () => {
    const res = await graphql(server.url, SilenceAlertsDocument, { matcher: { source: 'security' }, reason: 'pentest window' }, { token: admin });
    expect(res.errors).toBeUndefined();
    const id = res.data!.silenceAlerts.id;
    const sql = server.orm.em.fork().getConnection();
    expect(await sql.execute(`select 1 from audit_log where action = 'ALERT_SILENCE' and resource_id = ?`, [id])).toHaveLength(1);
    const alerts = await sql.execute<{ level: string; source: string }[]>('select level, source from alert where fingerprint = ?', [`alerts:security-silenced:${id}`]);
    expect(alerts).toEqual([{ level: 'WARNING', source: 'alerts' }]);
  });
});

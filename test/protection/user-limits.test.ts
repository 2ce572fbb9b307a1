import { Role } from '../../src/permissions/roles';
import { graphql } from '../helpers/clients';
import { createUser, signIn, tokenFor } from '../helpers/auth';
import { startTestServer, type TestServer } from '../helpers/server';

describe('limits of signed-in users', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: { VIGIL_RATE_LIMIT_USER: '3', VIGIL_RATE_LIMIT_ROLES: 'ADMIN=5', VIGIL_INTROSPECTION: 'admin', VIGIL_COST_BUDGET: '10000' },
    });
  });
  afterAll(() => server.close());

  const health = '{ health { status } }';

  it('limits each user per window, by role, with 429 RATE_LIMITED and Retry-After', async () => {
    const viewer = await tokenFor(server, Role.VIEWER);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await graphql(server.url, health, undefined, { token: viewer }));
    expect(statuses.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    const limited = statuses[3]!;
    expect(limited.errors?.[0]?.extensions).toEqual({
      code: 'RATE_LIMITED',
      retryAfter: Number(limited.headers.get('retry-after')),
      requestId: expect.any(String),
    });

    const otherViewer = await tokenFor(server, Role.VIEWER);
    expect((await graphql(server.url, health, undefined, { token: otherViewer })).status).toBe(200);

    const admin = await tokenFor(server, Role.ADMIN);
    const adminStatuses = [];
    for (let i = 0; i < 6; i++) adminStatuses.push((await graphql(server.url, health, undefined, { token: admin })).status);
    expect(adminStatuses).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('records the refusal as a security event tied to the user, once per window', async () => {
    const user = await createUser(server, Role.ANALYST);
    const { accessToken } = await signIn(server, user.email, user.password);
    for (let i = 0; i < 6; i++) await graphql(server.url, health, undefined, { token: accessToken });
    const read = () =>
      server.orm.em
        .fork()
        .getConnection()
        .execute<{ action: string; outcome: string }[]>(`select action, outcome from audit_log where actor_id = ? and action = 'RATE_LIMITED'`, [
          user.id,
        ]);
    let rows = await read();
    for (let i = 0; i < 50 && rows.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      rows = await read();
    }
    expect(rows).toEqual([{ action: 'RATE_LIMITED', outcome: 'DENIED' }]);
  });

  it('lets ADMIN_ACCESS introspect in admin mode and refuses everyone else', async () => {
    const introspect = '{ __schema { queryType { name } } }';
    const admin = await tokenFor(server, Role.ADMIN);
    const allowed = await graphql(server.url, introspect, undefined, { token: admin });
    expect(allowed.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    const analyst = await tokenFor(server, Role.ANALYST);
    const refused = await graphql(server.url, introspect, undefined, { token: analyst });
    expect(refused.status).toBe(403);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

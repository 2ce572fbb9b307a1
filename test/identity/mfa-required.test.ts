import { authenticator } from 'otplib';
import WebSocket from 'ws';
import { VigilCloseCode } from '../../src/infra/websocket';
import { Role } from '../../src/permissions/roles';
import { createUser, tokenFor } from '../helpers/auth';
import { graphql, type GraphQLResponse } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';
import { until, updateSettings } from '../settings/helpers';

const QUIET = { VIGIL_RATE_LIMIT_ENABLED: 'false', VIGIL_HEALTH_INTERVAL_MS: '0' };
const LOGIN = /* GraphQL */ `
  mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) { accessToken refreshToken mfaEnrollmentRequired user { id role mfaEnabled } }
  }
`;
const REFRESH = 'mutation Refresh($t: String!) { refreshSession(refreshToken: $t) { accessToken mfaEnrollmentRequired } }';
const ENROLL = 'mutation { enrollMfa { secret } }';
const CONFIRM = 'mutation Confirm($otp: String!) { confirmMfaWithRecoveryCodes(otp: $otp) { recoveryCodes } }';

type Errors = GraphQLResponse<unknown>['errors'];
const extensionsOf = (errors: Errors) => (errors?.[0] as { extensions?: Record<string, unknown> } | undefined)?.extensions;
const heldBack = expect.objectContaining({ code: 'FORBIDDEN', reason: 'MFA_ENROLLMENT_REQUIRED', requestId: expect.any(String) });

/** What a full session reads and writes, as root fields of every kind of rule (permission, signed in, node). */
const BEYOND_ENROLMENT = [
  '{ investigations(first: 1) { totalCount } }',
  '{ alerts(first: 1) { totalCount } }',
  'mutation { createInvestigation(input: { title: "held back" }) { id } }',
  'query Spread { ...Q } fragment Q on Query { auditLogs(first: 1) { totalCount } }',
];

interface LoginData {
  login: { accessToken: string; refreshToken: string; mfaEnrollmentRequired: boolean; user: { id: string; role: string; mfaEnabled: boolean } };
}

async function login(server: TestServer, email: string, password: string) {
  const res = await graphql<LoginData>(server.url, LOGIN, { email, password });
  expect(res.errors).toBeUndefined();
  return res.data!.login;
}

/** A graphql-transport-ws connection signed in with `token`; resolves once acknowledged (or closed). */
function openSocket(wsUrl: string, token: string) {
  const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  const acked = new Promise<boolean>((resolve) => {
    socket.once('message', (data) => resolve(JSON.parse(data.toString()).type === 'connection_ack'));
    socket.once('close', () => resolve(false));
  });
  socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
  let next = 0;
  /** Runs an operation; resolves its first `next` or `error` message. */
  const run = (query: string) =>
    new Promise<{ type: string; payload: { errors?: Errors; data?: unknown } | Errors }>((resolve) => {
      const id = `op${next++}`;
      const onMessage = (data: WebSocket.RawData) => {
        const message = JSON.parse(data.toString());
        if (message.id !== id || (message.type !== 'next' && message.type !== 'error')) return;
        socket.off('message', onMessage);
        resolve(message);
      };
      socket.on('message', onMessage);
      socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query } }));
    });
  return { socket, acked, closed, run };
}

/** The first error's extensions of a websocket answer (`next` with errors, or `error`). */
function wsExtensions(message: { type: string; payload: unknown }) {
  const errors = (message.type === 'error' ? message.payload : (message.payload as { errors?: Errors }).errors) as Errors;
  return extensionsOf(errors);
}

describe('a role that requires a second factor', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { ...QUIET, VIGIL_MFA_REQUIRED_ROLES: 'ANALYST' } });
  });
  afterAll(() => server.close());

  it('signs in without one, but the session may only enrol until it is confirmed — over HTTP and the websocket', async () => {
    const user = await createUser(server, Role.ANALYST);
    const signedIn = await login(server, user.email, user.password);
    expect(signedIn.mfaEnrollmentRequired).toBe(true);
    const token = signedIn.accessToken;

    // Held back: no permissions, and every field beyond enrolment is FORBIDDEN with the reason.
    const mine = await graphql<{ me: { id: string }; myPermissions: string[] }>(server.url, '{ me { id } myPermissions }', {}, { token });
    expect(mine.data).toEqual({ me: { id: user.id }, myPermissions: [] });
    for (const query of BEYOND_ENROLMENT) {
      const res = await graphql(server.url, query, {}, { token });
      expect(extensionsOf(res.errors)).toEqual(heldBack);
    }
    const viaGet = await fetch(`${server.url}?query=${encodeURIComponent('{ alerts(first: 1) { totalCount } }')}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/graphql-response+json' },
    });
    expect(extensionsOf(((await viaGet.json()) as { errors: Errors }).errors)).toEqual(heldBack);
    // A refreshed pair is held back the same way.
    const refreshed = await graphql<{ refreshSession: { mfaEnrollmentRequired: boolean } }>(server.url, REFRESH, { t: signedIn.refreshToken });
    expect(refreshed.data?.refreshSession.mfaEnrollmentRequired).toBe(true);

    const ws = openSocket(server.wsUrl, token);
    expect(await ws.acked).toBe(true);
    expect(wsExtensions(await ws.run('subscription { alertRaised { id } }'))).toEqual(heldBack);
    expect(wsExtensions(await ws.run('{ investigations(first: 1) { totalCount } }'))).toEqual(heldBack);

    // Enrolling is allowed; once confirmed, the same token gets the role's rights and the held-back socket reconnects.
    const secret = (await graphql<{ enrollMfa: { secret: string } }>(server.url, ENROLL, {}, { token })).data!.enrollMfa.secret;
    const confirmed = await graphql(server.url, CONFIRM, { otp: authenticator.generate(secret) }, { token });
    expect(confirmed.errors).toBeUndefined();
    expect(await ws.closed).toBe(VigilCloseCode.RightsChanged);
    const after = await graphql<{ myPermissions: string[] }>(server.url, '{ myPermissions investigations(first: 1) { totalCount } }', {}, { token });
    expect(after.errors).toBeUndefined();
    expect(after.data?.myPermissions).toContain('READ_INVESTIGATIONS');
    const again = openSocket(server.wsUrl, token);
    expect(await again.acked).toBe(true);
    const answer = await again.run('{ investigations(first: 1) { totalCount } }');
    expect(wsExtensions(answer)).toBeUndefined();
    again.socket.close();

    // The role's requirement also keeps the factor on.
    const disabled = await graphql(server.url, 'mutation Off($otp: String!) { disableMfa(otp: $otp) }', { otp: authenticator.generate(secret) }, { token });
    expect(extensionsOf(disabled.errors)?.code).toBe('FORBIDDEN');
    const [row] = await server.orm.em.fork().getConnection().execute<{ mfa_enabled: boolean }[]>('select mfa_enabled from "user" where id = ?', [user.id]);
    expect(row?.mfa_enabled).toBe(true);
  });

  it('leaves roles that do not require one alone', async () => {
    const user = await createUser(server, Role.VIEWER);
    const signedIn = await login(server, user.email, user.password);
    expect(signedIn.mfaEnrollmentRequired).toBe(false);
    const res = await graphql(server.url, '{ investigations(first: 1) { totalCount } alerts(first: 1) { totalCount } }', {}, { token: signedIn.accessToken });
    expect(res.errors).toBeUndefined();
  });
});

describe('requiring a second factor through the settings, on two instances', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    a = await startTestServer({ env: QUIET });
    b = await startTestServer({ database: a.database, redisPrefix: a.config.redisPrefix, env: QUIET });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('holds back sessions and closes their websockets on the other instance at once, and lets them go when lifted', async () => {
    const superAdmin = await tokenFor(a, Role.SUPER_ADMIN);
    const viewer = await createUser(a, Role.VIEWER);
    const token = (await login(b, viewer.email, viewer.password)).accessToken;
    const ws = openSocket(b.wsUrl, token);
    expect(await ws.acked).toBe(true);
    // A full session on B, with a live subscription.
    let wsClosedWith: number | undefined;
    void ws.closed.then((code) => (wsClosedWith = code));

    const on = await updateSettings(a.url, superAdmin, { identity: { mfaRequired: [{ role: 'VIEWER', required: true }] } });
    expect(on.errors).toBeUndefined();
    await until(() => wsClosedWith !== undefined, 'the websocket on B to close', 5_000);
    expect(wsClosedWith).toBe(VigilCloseCode.RightsChanged);
    await until(
      async () => extensionsOf((await graphql(b.url, '{ investigations(first: 1) { totalCount } }', {}, { token })).errors)?.reason === 'MFA_ENROLLMENT_REQUIRED',
      'B to hold the session back',
      5_000,
    );
    const reconnected = openSocket(b.wsUrl, token);
    expect(await reconnected.acked).toBe(true);
    expect(wsExtensions(await reconnected.run('subscription { alertRaised { id } }'))).toEqual(heldBack);
    // An administrator's session of a role that still needs nothing is not touched.
    expect((await graphql(b.url, '{ systemSettings { version } }', {}, { token: superAdmin })).errors).toBeUndefined();

    const off = await updateSettings(a.url, superAdmin, { identity: { mfaRequired: [{ role: 'VIEWER', required: false }] } });
    expect(off.errors).toBeUndefined();
    expect(await reconnected.closed).toBe(VigilCloseCode.RightsChanged);
    await until(
      async () => (await graphql(b.url, '{ investigations(first: 1) { totalCount } }', {}, { token })).errors === undefined,
      'B to give the session its rights back',
      5_000,
    );
  });
});

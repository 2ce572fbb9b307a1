import { randomUUID } from 'node:crypto';
import { createLogger } from '../../src/infra/logger';
import { AddFindingForLogsDocument, HealthStatusOnlyDocument, LoginForLogsDocument, RefreshForLogsDocument } from '../generated/graphql';
import { graphql } from '../helpers/clients';
import { CapturedLog } from '../helpers/captured-log';
import { startTestServer, type TestServer } from '../helpers/server';


describe('structured logs of GraphQL operations', () => {
  const log = new CapturedLog();
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ logger: createLogger('info', log), env: { LOG_LEVEL: 'info' } });
  });
  afterAll(() => server.close());

  it('writes one JSON line per operation with time, level, requestId, userId, operationName, duration and outcome', async () => {
    const res = await graphql(server.url, HealthStatusOnlyDocument, undefined, { headers: { 'x-request-id': 'log-trace-1' } });
    expect(res.errors).toBeUndefined();
    const line = log.lines().find((l) => l.requestId === 'log-trace-1' && l.msg === 'graphql operation');
    expect(line).toMatchObject({
      level: 'info',
      requestId: 'log-trace-1',
      userId: null,
      operationName: 'HealthStatusOnly',
      operationType: 'query',
      outcome: 'ok',
    });
    expect(new Date(line!.time as string).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(line!.durationMs).toEqual(expect.any(Number));
  });

  it('records the error codes as the outcome', async () => {
    await graphql(server.url, 'query Broken { nope }', undefined, { headers: { 'x-request-id': 'log-trace-2' } });
    const line = log.lines().find((l) => l.requestId === 'log-trace-2' && l.msg === 'graphql operation');
    expect(line?.outcome).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('never writes passwords, tokens, OTPs, authorization headers or subject personal data', async () => {
    const secrets = {
      password: `pw-${randomUUID()}`,
      otp: `otp-${randomUUID().slice(0, 6)}`,
      refreshToken: `refresh-${randomUUID()}`,
      bearer: `bearer-${randomUUID()}`,
      subjectEmail: `subject-${randomUUID().slice(0, 8)}@example.org`,
      subjectIp: '203.0.113.77',
      subjectName: `Subject ${randomUUID().slice(0, 8)}`,
    };
    const headers = { authorization: `Bearer ${secrets.bearer}`, 'x-request-id': 'log-trace-3' };
    await graphql(server.url, LoginForLogsDocument, { email: 'nobody@example.org', password: secrets.password, otp: secrets.otp }, { headers: { 'x-request-id': 'log-trace-3' } });
    await graphql(server.url, LoginForLogsDocument, { email: 'nobody@example.org', password: secrets.password, otp: secrets.otp }, { headers });
    await graphql(server.url, RefreshForLogsDocument, { refreshToken: secrets.refreshToken }, { headers: { 'x-request-id': 'log-trace-4' } });
    await graphql(
      server.url,
      AddFindingForLogsDocument,
      {
        investigationId: randomUUID(),
        input: {
          summary: 'phishing kit',
          subjectEmail: secrets.subjectEmail,
          subjectIp: secrets.subjectIp,
          subjectName: secrets.subjectName,
          evidence: { nested: [{ subjectEmail: secrets.subjectEmail, password: secrets.password }] },
        },
      },
      { headers: { 'x-request-id': 'log-trace-5' } },
    );

    for (const value of Object.values(secrets)) expect(log.text).not.toContain(value);

    const login = log.lines().find((l) => l.requestId === 'log-trace-3' && l.operationName === 'LoginForLogs');
    expect(login?.variables).toEqual({ email: '[redacted]', password: '[redacted]', otp: '[redacted]' });
    const refresh = log.lines().find((l) => l.requestId === 'log-trace-4' && l.operationName === 'RefreshForLogs');
    expect(refresh?.variables).toEqual({ refreshToken: '[redacted]' });
    const finding = log.lines().find((l) => l.requestId === 'log-trace-5' && l.operationName === 'AddFindingForLogs');
    expect(finding?.variables).toMatchObject({
      input: {
        summary: 'phishing kit',
        subjectEmail: '[redacted]',
        subjectIp: '[redacted]',
        subjectName: '[redacted]',
        // Free-form JSON can hold anything: it is not logged at all.
        evidence: '[redacted]',
      },
    });
    expect(finding?.outcome).toEqual(expect.stringMatching(/UNAUTHENTICATED|FORBIDDEN/));
  });

  it("redacts secrets in the logger's own fields too (pino paths)", () => {
    const own = new CapturedLog();
    const logger = createLogger('info', own);
    logger.info({ req: { headers: { authorization: 'Bearer abc.def.ghi', cookie: 'sid=1' } }, user: { password: 'hunter2hunter2' } }, 'x');
    expect(own.text).not.toContain('abc.def.ghi');
    expect(own.text).not.toContain('sid=1');
    expect(own.text).not.toContain('hunter2hunter2');
  });
});

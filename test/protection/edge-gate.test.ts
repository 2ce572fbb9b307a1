import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { loadConfig } from '../../src/config';
import type { Viewer } from '../../src/context';
import { checkNulInputs, checkVariableBounds } from '../../src/edge/inputs';
import { createGate, type Gate } from '../../src/edge/gate';
import { responseContentType, withoutSuggestions } from '../../src/edge/errors';
import { createRateLimiters } from '../../src/edge/limiters';
import type { Caller } from '../../src/edge/request';
import { settingsFromConfig, type EdgeSettings } from '../../src/edge/settings';
import { ServiceUnavailableError } from '../../src/errors';
import { Role, ROLE_PERMISSIONS } from '../../src/permissions/roles';
import type { SecurityEvent } from '../../src/protection/security-events';
import { buildVigilSchema } from '../../src/schema/build';
import { parse } from 'graphql';

const caller = (viewer: Viewer | null = null): Caller => ({ requestId: 'r-1', ip: '192.0.2.1', userAgent: null, viewer, transport: 'http' });
const admin: Viewer = { id: 'u-1', email: 'a@example.com', role: Role.ADMIN, sessionId: 's-1', permissions: ROLE_PERMISSIONS[Role.ADMIN] };

describe('the gate (transport-independent stages)', () => {
  let schema: GraphQLSchema;
  let settings: EdgeSettings;
  let maintenance: { enabled: boolean; message?: string };
  /** Sign-in, sign-out and settings stay open, as the settings area's write gate decides. */
  const exempt = new Set(['login', 'logout', 'refreshSession', 'updateSystemSettings']);
  let events: SecurityEvent[];
  let gate: Gate;

  beforeAll(async () => {
    schema = await buildVigilSchema();
  });
  beforeEach(() => {
    settings = { ...settingsFromConfig(loadConfig({ NODE_ENV: 'test', VIGIL_INTROSPECTION: 'admin' }))() };
    maintenance = { enabled: false };
    events = [];
    const live = () => settings;
    gate = createGate({
      schema,
      settings: live,
      limiters: createRateLimiters(live, 'unit:'),
      record: (_meta, event) => events.push(event),
      maintenance: (fields) => {
        if (!maintenance.enabled || fields.every((f) => exempt.has(f))) return null;
        const error = new ServiceUnavailableError(maintenance.message ?? 'maintenance');
        Object.assign(error.extensions, { reason: 'maintenance', retryAfter: 30 });
        return error;
      },
    });
  });

  const operate = async (query: string, variables: Record<string, unknown> = {}, who = caller()) => {
    const verdict = gate.admitDocument(who, { query, variables });
    if (!verdict.ok) return verdict.refusal;
    const admitted = await gate.admitOperation(who, verdict.document!, verdict.operation!, variables);
    return admitted.ok ? null : admitted.refusal;
  };

  it('reads its limits at request time: a limit changed while running applies to the next request', async () => {
    const query = `{ ${'health { status } '.repeat(5)}}`;
    expect(await operate(query)).toBeNull();
    settings = { ...settings, limits: { ...settings.limits, maxRootFields: 3 } };
    expect((await operate(query))?.error.extensions).toEqual(expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', rootFields: 4, limit: 3 }));
    settings = { ...settings, rateLimit: { ...settings.rateLimit, anonymous: 1 } };
    expect(await gate.admitRequest(caller())).toBeNull();
    expect((await gate.admitRequest(caller()))?.status).toBe(429);
  });

  it('asks the maintenance check with every root field of a mutation (fragments included) and answers 503 with Retry-After', async () => {
    maintenance = { enabled: true, message: 'Restoring a backup' };
    const refused = await operate('mutation { raiseAlert(input: { level: INFO, title: "t" }) { id } }');
    expect(refused?.status).toBe(503);
    expect(refused?.error.message).toBe('Restoring a backup');
    expect(refused?.error.extensions).toEqual(expect.objectContaining({ code: 'SERVICE_UNAVAILABLE', reason: 'maintenance', retryAfter: 30 }));
    expect(refused?.headers['retry-after']).toBe('30');
    expect(await operate('mutation { login(email: "a@example.com", password: "p") { accessToken } }')).toBeNull();
    expect(await operate('mutation { ... on Mutation { logout } }')).toBeNull();
    expect(await operate('{ health { status } }')).toBeNull();
    expect((await operate('mutation { logout ...M } fragment M on Mutation { deleteInvestigation(id: "x") }'))?.status).toBe(503);
  });

  it('refuses introspection to non-administrators in admin mode, once recorded, and lets administrators', async () => {
    expect((await operate('{ __schema { queryType { name } } }'))?.error.extensions.code).toBe('FORBIDDEN');
    expect(events.map((e) => e.action)).toEqual(['INTROSPECTION_DENIED']);
    expect(await operate('{ __schema { queryType { name } } }', {}, caller(admin))).toBeNull();
    expect(gate.introspectionAllowed(caller(admin))).toBe(true);
    expect(gate.introspectionAllowed(caller())).toBe(false);
  });

  it('names the argument of a U+0000 (literal, variable, nested) and bounds variables without recursion', () => {
    const doc = parse('mutation ($t: [String!]) { createInvestigation(input: { title: "ok", tags: $t }) { id } addNote(investigationId: "x", body: "a\\u0000") { id } }');
    expect(checkNulInputs(doc, {})?.extensions).toEqual(expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'body' }));
    const viaVariable = parse('mutation ($t: [String!]) { createInvestigation(input: { title: "ok", tags: $t }) { id } }');
    expect(checkNulInputs(viaVariable, { t: ['fine', 'x\u0000'] })?.extensions).toEqual(
      expect.objectContaining({ field: 'input.tags[1]', variable: 't' }),
    );
    let deep: unknown = 'x';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(checkVariableBounds({ v: deep }, { maxDepth: 32, maxBytes: 1_000_000 })?.extensions).toEqual(
      expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'v', limit: 32 }),
    );
    expect(checkVariableBounds({ v: 'x'.repeat(2000) }, { maxDepth: 32, maxBytes: 1024 })?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(checkVariableBounds({ v: { a: [1, 'two', null] } }, { maxDepth: 32, maxBytes: 1024 })).toBeNull();
  });

  it('answers with the content type the client prefers, and strips name suggestions', () => {
    expect(responseContentType(undefined)).toBe('application/json');
    expect(responseContentType('application/graphql-response+json,application/json;q=0.9')).toBe('application/graphql-response+json');
    expect(responseContentType('application/json, application/graphql-response+json')).toBe('application/json');
    expect(responseContentType('*/*')).toBe('application/json');
    expect(responseContentType('text/html')).toBeNull();
    expect(withoutSuggestions('Cannot query field "investigationz" on type "Query". Did you mean "investigation" or "investigations"?')).toBe(
      'Cannot query field "investigationz" on type "Query".',
    );
  });
});

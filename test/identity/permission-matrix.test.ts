import { randomUUID } from 'node:crypto';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  parse,
  subscribe as executeSubscription,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { createContext } from '../../src/context';
import { ruleTree } from '../../src/permissions';
import { Permission, Role, ROLE_ORDER, ROLE_PERMISSIONS } from '../../src/permissions/roles';
import { buildTypeSchema, buildVigilSchema } from '../../src/schema/build';
import { createUser, signIn } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';

/** Who may call an operation field: anyone, anyone signed in, or holders of every listed permission. */
type Access = 'public' | 'signedIn' | Permission | Permission[];

/**
 * THE expected table: every Query, Mutation and Subscription field of the schema, with who may call
 * it (the public contract, also in the README's "Roles and permissions"). A field added to the schema without a line here fails this test; so does a line
 * whose rule in `src/permissions` disagrees with it. Add one line when you add a field.
 */
const ACCESS: Record<string, Access> = {
  'Query.me': 'public',
  'Query.myPermissions': 'public',
  'Query.health': 'public',
  'Query.mySessions': 'signedIn',
  'Query.alerts': 'signedIn',
  'Query.alert': 'signedIn',
  'Query.users': Permission.ADMIN_ACCESS,
  'Query.investigation': Permission.READ_INVESTIGATIONS,
  'Query.investigations': Permission.READ_INVESTIGATIONS,
  'Query.auditLogs': Permission.AUDIT_ACCESS,
  'Query.verifyAuditChain': Permission.AUDIT_ACCESS,
  'Query.securityAudit': Permission.ADMIN_ACCESS,
  'Query.cacheStats': Permission.ADMIN_ACCESS,
  'Query.backups': Permission.ADMIN_ACCESS,
  'Query.backup': Permission.ADMIN_ACCESS,
  'Query.dbStats': Permission.ADMIN_ACCESS,
  'Query.systemSettings': Permission.ADMIN_ACCESS,
  'Query.systemSettingsHistory': Permission.ADMIN_ACCESS,
  // A random id names nothing: null without an error only for a caller who may see every type
  // such an id could name; anyone else gets the denial a hidden object would get (no oracle).
  'Query.node': [Permission.READ_INVESTIGATIONS, Permission.MODIFY_INVESTIGATIONS, Permission.AUDIT_ACCESS, Permission.ADMIN_ACCESS],
  // The sample asks for no ids: an empty list for anyone.
  'Query.nodes': 'public',

  'Mutation.login': 'public',
  'Mutation.refreshSession': 'public',
  'Mutation.logout': 'signedIn',
  'Mutation.revokeSession': 'signedIn',
  'Mutation.revokeSessionV2': 'signedIn',
  'Mutation.enrollMfa': 'signedIn',
  'Mutation.confirmMfa': 'signedIn',
  'Mutation.disableMfa': 'signedIn',
  'Mutation.confirmMfaWithRecoveryCodes': 'signedIn',
  'Mutation.regenerateRecoveryCodes': 'signedIn',
  'Mutation.resetUserMfa': Permission.ADMIN_ACCESS,
  'Mutation.createUser': Permission.ADMIN_ACCESS,
  'Mutation.updateUser': Permission.ADMIN_ACCESS,
  'Mutation.createInvestigation': Permission.CREATE_INVESTIGATIONS,
  'Mutation.updateInvestigation': Permission.MODIFY_INVESTIGATIONS,
  'Mutation.deleteInvestigation': Permission.DELETE_INVESTIGATIONS,
  'Mutation.deleteInvestigationV2': Permission.DELETE_INVESTIGATIONS,
  'Mutation.addFinding': Permission.MODIFY_INVESTIGATIONS,
  'Mutation.addAction': Permission.MODIFY_INVESTIGATIONS,
  'Mutation.updateActionStatus': Permission.MODIFY_INVESTIGATIONS,
  'Mutation.addNote': Permission.MODIFY_INVESTIGATIONS,
  'Mutation.exportInvestigation': Permission.EXPORT_DATA,
  'Mutation.exportAuditLogs': [Permission.AUDIT_ACCESS, Permission.EXPORT_DATA],
  'Mutation.raiseAlert': Permission.ADMIN_ACCESS,
  'Mutation.acknowledgeAlert': Permission.MODIFY_INVESTIGATIONS,
  'Mutation.resolveAlert': Permission.MODIFY_INVESTIGATIONS,
  'Mutation.silenceAlerts': Permission.MODIFY_INVESTIGATIONS,
  'Mutation.openInvestigationFromAlert': [Permission.CREATE_INVESTIGATIONS, Permission.MODIFY_INVESTIGATIONS],
  'Mutation.createBackup': Permission.ADMIN_ACCESS,
  'Mutation.verifyBackup': Permission.ADMIN_ACCESS,
  'Mutation.restoreBackup': Permission.SYSTEM_CONFIG,
  'Mutation.deleteBackup': Permission.SYSTEM_CONFIG,
  'Mutation.deleteBackupV2': Permission.SYSTEM_CONFIG,
  'Mutation.updateSystemSettings': Permission.SYSTEM_CONFIG,

  'Subscription.healthChanged': 'public',
  'Subscription.alertRaised': 'signedIn',
  'Subscription.alertUpdated': 'signedIn',
  'Subscription.investigationUpdated': Permission.READ_INVESTIGATIONS,
  'Subscription.backupProgress': Permission.ADMIN_ACCESS,
  'Subscription.systemSettingsChanged': Permission.ADMIN_ACCESS,
};

/**
 * Fields whose arguments must be real for an allowed caller to get past the resolver's own
 * UNAUTHENTICATED answers (bad credentials), and fields that end the caller's session (run last).
 */
const RUN_LAST = new Set(['Mutation.logout']);

type Caller = Role | null;
const CALLERS: Caller[] = [null, ...ROLE_ORDER];
const DENIAL_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN']);

function allowed(caller: Caller, access: Access): boolean {
  if (access === 'public') return true;
  if (caller === null) return false;
  if (access === 'signedIn') return true;
  const needed = Array.isArray(access) ? access : [access];
  return needed.every((p) => ROLE_PERMISSIONS[caller].has(p));
}

function operationFields(schema: GraphQLSchema): { kind: 'query' | 'mutation' | 'subscription'; type: GraphQLObjectType; field: GraphQLField<unknown, unknown> }[] {
  const kinds = [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
    ['subscription', schema.getSubscriptionType()],
  ] as const;
  return kinds.flatMap(([kind, type]) => (type ? Object.values(type.getFields()).map((field) => ({ kind, type, field })) : []));
}

/** A value of an input type that passes GraphQL validation (the resolver may still refuse it). */
function sampleValue(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return sampleValue(type.ofType);
  if (isListType(type)) return [];
  if (isEnumType(type)) return type.getValues()[0]!.value;
  if (isInputObjectType(type)) {
    return Object.fromEntries(
      Object.values(type.getFields())
        .filter((f) => isNonNullType(f.type) && f.defaultValue === undefined)
        .map((f) => [f.name, sampleValue(f.type)]),
    );
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case 'ID':
        return randomUUID();
      case 'Int':
      case 'Float':
        return 1;
      case 'Boolean':
        return false;
      case 'DateTime':
        return new Date().toISOString();
      case 'BigInt':
        return '1';
      case 'JSON':
      case 'JSONObject':
        return {};
      default:
        return 'x';
    }
  }
  throw new Error(`no sample for ${String(type)}`);
}

function operationFor(kind: string, field: GraphQLField<unknown, unknown>, overrides: Record<string, unknown> = {}) {
  const args = field.args.filter((a: GraphQLArgument) => isNonNullType(a.type) || a.name in overrides);
  const variables = Object.fromEntries(args.map((a) => [a.name, a.name in overrides ? overrides[a.name] : sampleValue(a.type)]));
  const definitions = args.map((a) => `$${a.name}: ${String(a.type)}`).join(', ');
  const call = args.map((a) => `${a.name}: $${a.name}`).join(', ');
  const named = getNamedType(field.type);
  const selection = isScalarType(named) || isEnumType(named) ? '' : ' { __typename }';
  const query = `${kind} Matrix${definitions ? `(${definitions})` : ''} { ${field.name}${call ? `(${call})` : ''}${selection} }`;
  return { query, variables };
}

function describeOutcome(codes: string[]): string {
  return codes.length ? codes.join(',') : 'ok';
}

describe('the permission matrix', () => {
  let server: TestServer;
  let schema: GraphQLSchema;
  const callers = new Map<Role, { email: string; password: string; accessToken: string }>();

  beforeAll(async () => {
    server = await startTestServer({ env: { VIGIL_RATE_LIMIT_ENABLED: 'false' } });
    schema = await buildTypeSchema();
    for (const role of ROLE_ORDER) {
      const user = await createUser(server, role);
      const { accessToken } = await signIn(server, user.email, user.password);
      callers.set(role, { ...user, accessToken });
    }
  });
  afterAll(() => server?.close());

  it('has an expected entry and a rule for every operation field of the schema', () => {
    const fields = operationFields(schema).map(({ type, field }) => `${type.name}.${field.name}`);
    expect(fields.filter((f) => !(f in ACCESS))).toEqual([]);
    const rules = ruleTree as unknown as Record<string, Record<string, unknown>>;
    expect(fields.filter((f) => !rules[f.split('.')[0]!]?.[f.split('.')[1]!])).toEqual([]);
  });

  it("shows another user's email, role, disabled and mfaEnabled only with ADMIN_ACCESS (null + FORBIDDEN otherwise), through every nesting; id and name to everyone; one's own to oneself", async () => {
    const analyst = callers.get(Role.ANALYST)!;
    const investigator = callers.get(Role.INVESTIGATOR)!;
    const created = await graphql<{ createInvestigation: { id: string } }>(
      server.url,
      'mutation($a: ID) { createInvestigation(input: { title: "Directory leak check", assigneeId: $a }) { id } }',
      { a: (investigator as unknown as { id: string }).id },
      { token: analyst.accessToken },
    );
    expect(created.errors).toBeUndefined();
    const alert = await graphql<{ raiseAlert: { id: string } }>(
      server.url,
      'mutation { raiseAlert(input: { level: WARNING, title: "Directory leak check", fingerprint: "matrix:directory" }) { id } }',
      {},
      { token: callers.get(Role.ADMIN)!.accessToken },
    );
    const alertId = alert.data!.raiseAlert.id;
    expect((await graphql(server.url, 'mutation($id: ID!) { acknowledgeAlert(id: $id) { id } }', { id: alertId }, { token: analyst.accessToken })).errors).toBeUndefined();

    const DETAILS = ['email', 'role', 'disabled', 'mfaEnabled'] as const;
    const userSelection = `{ id name ${DETAILS.join(' ')} }`;
    const query = `query($id: ID!, $alert: ID!) {
      investigation(id: $id) { createdBy ${userSelection} assignee ${userSelection} }
      alert(id: $alert) { acknowledgedBy ${userSelection} }
      me ${userSelection}
    }`;
    const mismatches: string[] = [];
    for (const role of ROLE_ORDER) {
      const self = callers.get(role)!;
      const token = self.accessToken;
      const res = await graphql<Record<string, Record<string, Record<string, unknown> | null> | null>>(
        server.url,
        query,
        { id: created.data!.createInvestigation.id, alert: alertId },
        { token },
      );
      const admin = ROLE_PERMISSIONS[role].has(Permission.ADMIN_ACCESS);
      const users: [string, Record<string, unknown> | null | undefined, string][] = [
        ['investigation.createdBy', res.data?.investigation?.createdBy as Record<string, unknown> | null, analyst.email],
        ['investigation.assignee', res.data?.investigation?.assignee as Record<string, unknown> | null, investigator.email],
        ['alert.acknowledgedBy', res.data?.alert?.acknowledgedBy as Record<string, unknown> | null, analyst.email],
        ['me', res.data?.me as Record<string, unknown> | null, self.email],
      ];
      for (const [path, user, email] of users) {
        if (!user) {
          mismatches.push(`${role}: ${path} missing`);
          continue;
        }
        if (typeof user.id !== 'string' || typeof user.name !== 'string') mismatches.push(`${role}: ${path} lost id or name`);
        const own = email === self.email;
        const visible = admin || own;
        for (const field of DETAILS) {
          const error = res.errors?.find((e) => e.path?.join('.') === `${path}.${field}`);
          if (visible && (user[field] === null || user[field] === undefined)) mismatches.push(`${role}: ${path}.${field} hidden`);
          if (visible && error) mismatches.push(`${role}: ${path}.${field} got ${String(error.extensions?.code)}`);
          if (!visible && user[field] !== null) mismatches.push(`${role}: ${path}.${field} leaked ${String(user[field])}`);
          if (!visible && error?.extensions?.code !== 'FORBIDDEN') mismatches.push(`${role}: ${path}.${field} without FORBIDDEN`);
        }
        if (visible && user.email !== email) mismatches.push(`${role}: ${path}.email is not ${email}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('allows and denies every query and mutation as the table says, for anonymous callers and each role', async () => {
    const mismatches: string[] = [];
    const fields = operationFields(schema)
      .filter(({ kind }) => kind !== 'subscription')
      .sort((a, b) => Number(RUN_LAST.has(`${a.type.name}.${a.field.name}`)) - Number(RUN_LAST.has(`${b.type.name}.${b.field.name}`)));
    for (const { kind, type, field } of fields) {
      const name = `${type.name}.${field.name}`;
      const access = ACCESS[name];
      if (access === undefined) continue;
      for (const caller of CALLERS) {
        const identity = caller ? callers.get(caller)! : null;
        const overrides: Record<string, unknown> = {};
        if (name === 'Mutation.login') {
          const someone = identity ?? callers.get(Role.VIEWER)!;
          Object.assign(overrides, { email: someone.email, password: someone.password });
        }
        if (name === 'Mutation.silenceAlerts') {
          // Security alerts need ADMIN_ACCESS to be silenced (test/alerts/alerts-silences.test.ts); this row checks the rest.
          overrides.matcher = { source: 'health' };
        }
        if (name === 'Mutation.refreshSession') {
          const someone = identity ?? callers.get(Role.VIEWER)!;
          overrides.refreshToken = (await signIn(server, someone.email, someone.password)).refreshToken;
        }
        const { query, variables } = operationFor(kind, field, overrides);
        const res = await graphql(server.url, query, variables, { token: identity?.accessToken });
        const codes = (res.errors ?? []).map((e) => String(e.extensions?.code));
        const denied = codes.some((c) => DENIAL_CODES.has(c));
        const expectAllowed = allowed(caller, access);
        const expectedCode = caller ? 'FORBIDDEN' : 'UNAUTHENTICATED';
        if (expectAllowed && denied) mismatches.push(`${name} as ${caller ?? 'anonymous'}: expected allowed, got ${describeOutcome(codes)}`);
        if (!expectAllowed && !codes.includes(expectedCode)) {
          mismatches.push(`${name} as ${caller ?? 'anonymous'}: expected ${expectedCode}, got ${describeOutcome(codes)}`);
        }
        if (!expectAllowed && res.data && (res.data as Record<string, unknown>)[field.name] != null) {
          mismatches.push(`${name} as ${caller ?? 'anonymous'}: denied but returned data`);
        }
      }
    }
    expect(mismatches).toEqual([]);
    // Several hundred requests, some of which (createBackup, login) do real work.
  }, 180_000);

  it('opens a subscription only for callers the table allows (checked at subscribe time)', async () => {
    const executable = await buildVigilSchema();
    const mismatches: string[] = [];
    // The previous test ended these sessions with logout: sign in again.
    const tokens = new Map<Role, string>();
    for (const [role, user] of callers) tokens.set(role, (await signIn(server, user.email, user.password)).accessToken);
    for (const { kind, type, field } of operationFields(schema).filter((f) => f.kind === 'subscription')) {
      const name = `${type.name}.${field.name}`;
      const access = ACCESS[name];
      if (access === undefined) continue;
      for (const caller of CALLERS) {
        const token = caller ? tokens.get(caller) : undefined;
        const contextValue = await createContext(server, { ip: '127.0.0.1', authorization: token ? `Bearer ${token}` : null });
        const { query, variables } = operationFor(kind, field);
        const result = await executeSubscription({ schema: executable, document: parse(query), variableValues: variables, contextValue });
        let codes: string[] = [];
        if (Symbol.asyncIterator in result) {
          await result.return?.();
        } else {
          codes = (result.errors ?? []).map((e) => String(e.extensions?.code));
        }
        const denied = codes.some((c) => DENIAL_CODES.has(c));
        const expectAllowed = allowed(caller, access);
        const expectedCode = caller ? 'FORBIDDEN' : 'UNAUTHENTICATED';
        if (expectAllowed && denied) mismatches.push(`${name} as ${caller ?? 'anonymous'}: expected allowed, got ${describeOutcome(codes)}`);
        if (!expectAllowed && !codes.includes(expectedCode)) {
          mismatches.push(`${name} as ${caller ?? 'anonymous'}: expected ${expectedCode}, got ${describeOutcome(codes)}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });
});

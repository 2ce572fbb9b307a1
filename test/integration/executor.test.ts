import { Role } from '../../src/permissions/roles';
import { seedDemo } from '../../src/services/investigations/demo-seed';
import { tokenFor } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';

/**
 * Operations run through graphql-js at first and through graphql-jit once compiled (from their
 * second run): a client must not be able to tell which one answered.
 */
describe('compiled execution', () => {
  let compiled: TestServer;
  let interpreted: TestServer;
  let viewer: string;
  let viewerOnInterpreted: string;

  beforeAll(async () => {
    [compiled, interpreted] = await Promise.all([startTestServer(), startTestServer({ env: { VIGIL_COMPILED_OPERATIONS: '0' } })]);
    for (const server of [compiled, interpreted]) {
      await seedDemo(server.orm, { users: server.services.users, audit: server.services.audit }, {
        investigations: 6,
        findingsPer: 3,
        password: 'demo-password-for-tests',
        batchSize: 10,
      });
    }
    viewer = await tokenFor(compiled, Role.VIEWER);
    viewerOnInterpreted = await tokenFor(interpreted, Role.VIEWER);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([compiled?.close(), interpreted?.close()]);
  });

  /** Sends the same request four times and returns the answers without their request ids. */
  async function repeated(server: TestServer, query: string, variables: Record<string, unknown>, token: string) {
    const answers = [];
    for (let i = 0; i < 4; i++) {
      const res = await graphql(server.url, query, variables, { token });
      answers.push(JSON.parse(JSON.stringify(res, (key, value: unknown) => (key === 'requestId' ? undefined : value))) as unknown);
    }
    return answers;
  }

  const shapeOf = (value: unknown): unknown =>
    Array.isArray(value) ? value.map(shapeOf) : value && typeof value === 'object' ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shapeOf(v)])) : typeof value;

  it('answers a repeated query the same on every run, as graphql-js does', async () => {
    const query = `query Page($first: Int) {
      investigations(first: $first) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { cursor node { id title status riskLevel tags createdAt
          createdBy { id name role } assignee { id email }
          findings(first: 2) { totalCount edges { node { id summary observedAt evidence } } }
          actions { id status dueAt } } }
      }
    }`;
    const answers = await repeated(compiled, query, { first: 4 }, viewer);
    expect(answers.every((a) => JSON.stringify(a) === JSON.stringify(answers[0]))).toBe(true);
    const first = answers[0] as { data: { investigations: { edges: unknown[] } } };
    expect(first.data.investigations.edges).toHaveLength(4);
    // Same types and nesting as the interpreter gives on another database with the same seed.
    const reference = (await repeated(interpreted, query, { first: 4 }, viewerOnInterpreted))[3];
    expect(shapeOf(answers[3])).toEqual(shapeOf(reference));
  });

  it('reports denied fields, bad variables and bad arguments the same way on every run', async () => {
    const denied = await repeated(compiled, '{ users(first: 1) { edges { node { id } } } }', {}, viewer);
    const badVariable = await repeated(compiled, 'query ($first: Int) { investigations(first: $first) { totalCount } }', { first: 'many' }, viewer);
    const badArgument = await repeated(compiled, '{ investigations(first: 1000) { totalCount } }', {}, viewer);
    for (const answers of [denied, badVariable, badArgument]) {
      expect(answers.every((a) => JSON.stringify(a) === JSON.stringify(answers[0]))).toBe(true);
    }
    expect((denied[3] as { errors: { extensions: { code: string }; path: string[] }[] }).errors[0]).toMatchObject({
      extensions: { code: 'FORBIDDEN' },
      path: ['users'],
    });
    expect((badVariable[3] as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
    expect((badArgument[3] as { errors: { extensions: { code: string }; path: string[] }[] }).errors[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
      path: ['investigations'],
    });
    // The interpreter says the same.
    const reference = await repeated(interpreted, '{ investigations(first: 1000) { totalCount } }', {}, viewerOnInterpreted);
    expect(reference[3]).toEqual(badArgument[3]);
  });
});

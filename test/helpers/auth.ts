import { randomBytes } from 'node:crypto';
import { User } from '../../src/entities/user.entity';
import type { Role } from '../../src/permissions/roles';
import type { VigilServer } from '../../src/server';
import { hashPassword } from '../../src/services/auth/passwords';
import { graphql } from './clients';

/** A test user's credentials. */
export interface TestUser {
  id: string;
  email: string;
  password: string;
}

/** One password (and argon2id hash) per test process for users created without one: hashing is slow on purpose. */
const DEFAULT_PASSWORD = `Test-${randomBytes(12).toString('base64url')}`;
let defaultHash: Promise<string> | undefined;

/**
 * Creates a user of a role directly through the server's ORM, hashed with argon2id exactly as
 * real accounts are.
 */
export async function createUser(
  server: Pick<VigilServer, 'orm'>,
  role: Role,
  overrides: { email?: string; password?: string; name?: string } = {},
): Promise<TestUser> {
  const password = overrides.password ?? DEFAULT_PASSWORD;
  const passwordHash = overrides.password ? await hashPassword(password) : await (defaultHash ??= hashPassword(DEFAULT_PASSWORD));
  const email = (overrides.email ?? `${role.toLowerCase()}-${randomBytes(6).toString('hex')}@test.vigil`).trim().toLowerCase();
  const em = server.orm.em.fork();
  const user = em.create(User, { email, name: overrides.name ?? `Test ${role}`, role, passwordHash });
  await em.flush();
  return { id: user.id, email, password };
}

const LOGIN = /* GraphQL */ `
  mutation HelperLogin($email: String!, $password: String!) {
    login(email: $email, password: $password) { accessToken refreshToken }
  }
`;

/** Signs in over HTTP with the `login` mutation; throws with the error code when it fails. */
export async function signIn(
  server: Pick<VigilServer, 'url'>,
  email: string,
  password: string,
): Promise<{ accessToken: string; refreshToken: string }> {
  const response = await graphql<{ login: { accessToken: string; refreshToken: string } }>(server.url, LOGIN, { email, password });
  if (!response.data?.login) {
    const error = response.errors?.[0];
    throw new Error(`signIn(${email}) failed: ${String(error?.extensions?.code)} ${error?.message ?? ''}`);
  }
  return response.data.login;
}

/** A fresh user of the role, signed in; returns the access token. */
export async function tokenFor(server: Pick<VigilServer, 'url' | 'orm'>, role: Role): Promise<string> {
  const user = await createUser(server, role);
  return (await signIn(server, user.email, user.password)).accessToken;
}

import { User } from '../../entities/user.entity';
import type { EntityManager } from '../../infra/db';
import { detachedShells, positionalRow, readPositional, readRows, readStatement, type RowField } from '../../infra/read-model';

/** A user as shown in responses: read-only, without secrets (no password hash, no MFA secret). */
const USER_FIELDS: readonly RowField[] = [
  { name: 'id', sql: 'u.id', kind: 'text' },
  { name: 'email', sql: 'u.email', kind: 'text' },
  { name: 'name', sql: 'u.name', kind: 'text' },
  { name: 'role', sql: 'u.role', kind: 'text' },
  { name: 'disabled', sql: 'u.disabled', kind: 'bool' },
  { name: 'mfaEnabled', sql: 'u.mfa_enabled', kind: 'bool' },
  { name: 'createdAt', sql: 'u.created_at', kind: 'time' },
  { name: 'updatedAt', sql: 'u.updated_at', kind: 'time' },
];

/** The positional row of a user as shown in responses (see read-model.ts), over the `"user"` row `u`. */
export const userRow = (): string => positionalRow(USER_FIELDS);

const userShell = detachedShells(User, USER_FIELDS.map((f) => f.name));

/** A detached User (see read-model.ts) from {@link userRow}'s values. */
export function userFromRow(values: readonly (string | null)[]): User {
  return readPositional(USER_FIELDS, values, userShell());
}

const usersStatement = readStatement(`select to_json(${userRow()}) as item from "user" u where u.id = any($1::uuid[])`);

/** Users by id as shown in responses (null for an unknown id), in one statement. */
export async function loadUsers(em: EntityManager, ids: readonly string[]): Promise<(User | null)[]> {
  const rows = await readRows<{ item: (string | null)[] }>(em, usersStatement, [ids]);
  const users = rows.map((row) => userFromRow(row.item));
  const byId = new Map(users.map((user) => [user.id, user]));
  return ids.map((id) => byId.get(id) ?? null);
}

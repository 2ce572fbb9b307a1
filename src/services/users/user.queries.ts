import { User } from '../../entities/user.entity';
import type { EntityManager } from '../../infra/db';
import { detached, epochMs, readRows, readStatement } from '../../infra/read-model';

/**
 * A user as shown in responses, as a JSON object built by PostgreSQL over the `"user"` row
 * `alias`: read-only and without secrets (no password hash, no MFA secret).
 */
export function userJson(alias: string): string {
  return `json_build_object('id', ${alias}.id, 'email', ${alias}.email, 'name', ${alias}.name, 'role', ${alias}.role,
    'disabled', ${alias}.disabled, 'mfaEnabled', ${alias}.mfa_enabled,
    'createdAt', ${epochMs(`${alias}.created_at`)}, 'updatedAt', ${epochMs(`${alias}.updated_at`)})`;
}

/** The object {@link userJson} builds. */
export interface UserJson {
  id: string;
  email: string;
  name: string;
  role: User['role'];
  disabled: boolean;
  mfaEnabled: boolean;
  createdAt: number;
  updatedAt: number;
}

/** A detached User (see read-model.ts) from {@link userJson}'s object. */
export function userFromJson(json: UserJson): User {
  return detached(User, {
    id: json.id,
    email: json.email,
    name: json.name,
    role: json.role,
    disabled: json.disabled,
    mfaEnabled: json.mfaEnabled,
    createdAt: new Date(json.createdAt),
    updatedAt: new Date(json.updatedAt),
  });
}

const usersStatement = readStatement(`select ${userJson('u')} as item from "user" u where u.id = any($1::uuid[])`);

/** Users by id as shown in responses (null for an unknown id), in one statement. */
export async function loadUsers(em: EntityManager, ids: readonly string[]): Promise<(User | null)[]> {
  const rows = await readRows<{ item: UserJson }>(em, usersStatement, [ids]);
  const byId = new Map(rows.map((row) => [row.item.id, userFromJson(row.item)]));
  return ids.map((id) => byId.get(id) ?? null);
}

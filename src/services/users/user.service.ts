import { randomBytes } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { Config } from '../../config';
import { systemMeta, type RequestMeta } from '../../context';
import { User } from '../../entities/user.entity';
import { BadUserInputError, ConflictError, NotFoundError } from '../../errors';
import type { EntityManager, MikroORM } from '../../infra/db';
import { isUuid } from '../../infra/ids';
import type { Logger } from '../../infra/logger';
import { Role } from '../../permissions/roles';
import { assertMayAssignRole, assertMayUpdateUser, type UserActor } from '../../permissions/user-policy';
import { cursorArgument, decodeCursor, keysetSql, pageWindow, toPage, type Page, type PageArgs } from '../../schema/connection';
import type { ListDirection } from '../../schema/list-order';
import { boundsCondition, type TimeBounds } from '../../schema/time-range';
import type { AuditService } from '../audit/audit.service';
import { findUserByEmail, normalizeEmail, type AuthService } from '../auth/auth.service';
import { assertPasswordPolicy, hashPassword } from '../auth/passwords';

/** A new account's data, as `createUser` and `vigil user create` receive it. */
export interface NewUser {
  email: string;
  name: string;
  role: Role;
  password: string;
}

/** What `updateUser` may change; absent fields stay as they are. */
export interface UserChange {
  name?: string | null;
  role?: Role | null;
  disabled?: boolean | null;
}

export interface UserServiceDeps {
  config: Config;
  orm: MikroORM;
  logger: Logger;
  audit: AuditService;
  auth: AuthService;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Serialises first-administrator creation across instances starting at once. */
const FIRST_ADMIN_LOCK = 7_310_440_001;
/** Serialises changes that could leave no active SUPER_ADMIN. */
const SUPER_ADMIN_LOCK = 7_310_440_002;

function snapshot(user: User) {
  return { email: user.email, name: user.name, role: user.role, disabled: user.disabled };
}

function actorOf(meta: RequestMeta): UserActor | null {
  return meta.actor ? { id: meta.actor.id, role: meta.actor.role } : null;
}

/**
 * User accounts: listing, creation and changes under the role rules of
 * `permissions/user-policy.ts`, the last-SUPER_ADMIN guard, the first administrator, and the
 * operator's command-line changes. Every change writes its audit entry in its own transaction.
 */
export class UserService {
  constructor(private readonly deps: UserServiceDeps) {}

  /** Accounts by creation time (newest first unless `direction` says otherwise), forward or backward (see {@link pageWindow}). */
  async list(args: PageArgs & { filter?: { role?: Role | null; disabled?: boolean | null; createdAt?: TimeBounds | null } | null; direction?: ListDirection }): Promise<Page<User>> {
    const window = pageWindow(args);
    const { order, op } = keysetSql(args.direction ?? 'desc', window);
    const em = this.deps.orm.em.fork();
    const filter: Record<string, unknown> = {};
    if (args.filter?.role) filter.role = args.filter.role;
    if (typeof args.filter?.disabled === 'boolean') filter.disabled = args.filter.disabled;
    const created = boundsCondition(args.filter?.createdAt);
    if (created) filter.createdAt = created;
    const where: Record<string, unknown> = { ...filter };
    if (window.cursor) {
      const argument = cursorArgument(window);
      const [at, id] = decodeCursor(window.cursor, 2, argument) as [string, string];
      const date = new Date(at);
      if (Number.isNaN(date.getTime()) || !isUuid(id)) throw new BadUserInputError(`${argument} is not a cursor this list gave out`, argument);
      const cmp = op === '<' ? '$lt' : '$gt';
      where.$or = [{ createdAt: { [cmp]: date } }, { createdAt: date, id: { [cmp]: id } }];
    }
    const [rows, total] = await Promise.all([
      window.size === 0 ? Promise.resolve([]) : em.find(User, where, { orderBy: { createdAt: order, id: order }, limit: window.size + 1 }),
      em.count(User, filter),
    ]);
    return toPage(rows, window, (u) => [u.createdAt.toISOString(), u.id], total);
  }

  /** One account by id; null when there is none. */
  async byId(id: string): Promise<User | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
    return this.deps.orm.em.fork().findOne(User, { id });
  }

  /** Creates an account; refused when the role is above the actor's own or the email is taken. */
  async create(meta: RequestMeta, input: NewUser): Promise<User> {
    assertMayAssignRole(actorOf(meta), input.role);
    const email = normalizeEmail(input.email);
    if (!EMAIL.test(email) || email.length > 320) throw new BadUserInputError('email is not a valid address', 'email');
    const name = input.name.trim();
    if (!name || name.length > 200) throw new BadUserInputError('name must have 1 to 200 characters', 'name');
    assertPasswordPolicy(input.password);
    const passwordHash = await hashPassword(input.password);
    try {
      return await this.deps.orm.em.fork().transactional(async (tx) => {
        if (await findUserByEmail(tx, email)) throw new ConflictError('A user with this email already exists', { field: 'email' });
        const user = tx.create(User, { email, name, role: input.role, passwordHash });
        await tx.flush();
        await this.deps.audit.record(tx, meta, {
          action: 'USER_CREATE',
          resourceType: 'User',
          resourceId: user.id,
          changes: { after: snapshot(user) },
        });
        return user;
      });
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) {
        throw new ConflictError('A user with this email already exists', { field: 'email' });
      }
      throw error;
    }
  }

  /**
   * Changes an account's name, role or disabled flag. Disabling revokes every session of the
   * account; a role change closes its websocket connections on every instance so running
   * subscriptions are checked again. The last active SUPER_ADMIN can be neither demoted nor
   * disabled (CONFLICT).
   */
  async update(meta: RequestMeta, id: string, change: UserChange): Promise<User> {
    const name = change.name === null || change.name === undefined ? undefined : change.name.trim();
    if (name !== undefined && (!name || name.length > 200)) throw new BadUserInputError('name must have 1 to 200 characters', 'name');
    const role = change.role ?? undefined;
    const disabled = change.disabled ?? undefined;
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new NotFoundError('User', id);

    let revoked = 0;
    let rightsChanged = false;
    const user = await this.deps.orm.em.fork().transactional(async (tx) => {
      const target = await tx.findOne(User, { id });
      if (!target) throw new NotFoundError('User', id);
      assertMayUpdateUser(actorOf(meta), target, { role, disabled });
      const before = snapshot(target);
      const losesSuperAdmin =
        target.role === Role.SUPER_ADMIN && !target.disabled && ((role !== undefined && role !== Role.SUPER_ADMIN) || disabled === true);
      if (losesSuperAdmin) await this.assertAnotherSuperAdmin(tx, target.id);
      if (name !== undefined) target.name = name;
      if (role !== undefined) target.role = role;
      if (disabled !== undefined) target.disabled = disabled;
      rightsChanged = before.role !== target.role || before.disabled !== target.disabled;
      if (disabled === true && !before.disabled) revoked = await this.deps.auth.revokeUserSessions(tx, target.id, 'user-disabled');
      await tx.flush();
      await this.deps.audit.record(tx, meta, {
        action: 'USER_UPDATE',
        resourceType: 'User',
        resourceId: target.id,
        changes: { before, after: snapshot(target), ...(revoked ? { sessionsRevoked: revoked } : {}) },
      });
      return target;
    });
    if (rightsChanged || revoked) await this.deps.auth.announceUserChange(user.id, disabled ? 'user-disabled' : 'role-changed');
    return user;
  }

  private async assertAnotherSuperAdmin(tx: EntityManager, exceptId: string): Promise<void> {
    await tx.getConnection().execute('select pg_advisory_xact_lock(?)', [SUPER_ADMIN_LOCK], 'all', tx.getTransactionContext());
    const others = await tx.count(User, { role: Role.SUPER_ADMIN, disabled: false, id: { $ne: exceptId } });
    if (others === 0) throw new ConflictError('This is the last active SUPER_ADMIN: promote another user first');
  }

  /**
   * On an empty database, creates a SUPER_ADMIN from `VIGIL_ADMIN_EMAIL` / `VIGIL_ADMIN_PASSWORD`,
   * or with a generated password that `announce` shows once. Safe when several instances start at
   * once. Returns the account created, or null when users already existed.
   */
  async ensureFirstAdmin(announce: (message: string) => void): Promise<User | null> {
    const { email = 'admin@vigil.local', password } = this.deps.config.admin;
    const generated = password ? null : randomBytes(18).toString('base64url');
    const secret = password ?? generated!;
    const passwordHash = await hashPassword(secret);
    const meta = systemMeta('firstAdministrator');
    const user = await this.deps.orm.em.fork().transactional(async (tx) => {
      await tx.getConnection().execute('select pg_advisory_xact_lock(?)', [FIRST_ADMIN_LOCK], 'all', tx.getTransactionContext());
      if ((await tx.count(User, {})) > 0) return null;
      const created = tx.create(User, { email: normalizeEmail(email), name: 'Administrator', role: Role.SUPER_ADMIN, passwordHash });
      await tx.flush();
      await this.deps.audit.record(tx, meta, {
        action: 'USER_CREATE',
        resourceType: 'User',
        resourceId: created.id,
        reason: 'first administrator on an empty database',
        changes: { after: snapshot(created) },
      });
      return created;
    });
    if (!user) return null;
    this.deps.logger.info({ email: user.email }, 'created the first administrator');
    if (generated) {
      announce(
        `Vigil: created the first administrator ${user.email} with the generated password:\n\n    ${generated}\n\n` +
          'It is shown only this once: sign in and keep it safe, or set VIGIL_ADMIN_EMAIL / VIGIL_ADMIN_PASSWORD on an empty database.\n',
      );
    }
    return user;
  }

  /** `vigil user set-role`: changes a role by email, as the operator. */
  async setRoleByEmail(email: string, role: Role): Promise<User> {
    const user = await this.requireByEmail(email);
    return this.update(systemMeta('cli:user:set-role'), user.id, { role });
  }

  /** `vigil user disable` / `enable`: as the operator; disabling revokes every session. */
  async setDisabledByEmail(email: string, disabled: boolean): Promise<User> {
    const user = await this.requireByEmail(email);
    return this.update(systemMeta(disabled ? 'cli:user:disable' : 'cli:user:enable'), user.id, { disabled });
  }

  /**
   * `vigil user reset-password`: sets a new password, revokes every session and lifts a lockout.
   * Without `password` one is generated and returned.
   */
  async resetPassword(email: string, password?: string): Promise<{ user: User; password: string }> {
    const secret = password ?? randomBytes(18).toString('base64url');
    assertPasswordPolicy(secret);
    const passwordHash = await hashPassword(secret);
    const target = await this.requireByEmail(email);
    const meta = systemMeta('cli:user:reset-password');
    const user = await this.deps.orm.em.fork().transactional(async (tx) => {
      const found = await tx.findOneOrFail(User, { id: target.id });
      found.passwordHash = passwordHash;
      const revoked = await this.deps.auth.revokeUserSessions(tx, found.id, 'password-reset');
      await this.deps.auth.clearPasswordLockout(tx, found.email);
      await this.deps.audit.record(tx, meta, {
        action: 'USER_PASSWORD_RESET',
        resourceType: 'User',
        resourceId: found.id,
        changes: { sessionsRevoked: revoked },
      });
      return found;
    });
    await this.deps.auth.announceUserChange(user.id, 'password-reset');
    return { user, password: secret };
  }

  private async requireByEmail(email: string): Promise<User> {
    const user = await findUserByEmail(this.deps.orm.em.fork(), email);
    if (!user) throw new NotFoundError('User', normalizeEmail(email));
    return user;
  }
}

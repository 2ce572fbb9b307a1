import { raw } from '@mikro-orm/core';
import { authenticator } from 'otplib';
import type { Config } from '../../config';
import type { RequestMeta, Viewer } from '../../context';
import { RefreshToken, Session } from '../../entities/session.entity';
import { User } from '../../entities/user.entity';
import { BadUserInputError, ConflictError, ErrorCode, ForbiddenError, NotFoundError, UnauthenticatedError, VigilError, AccountLockedError } from '../../errors';
import type { EntityManager, MikroORM } from '../../infra/db';
import type { Logger } from '../../infra/logger';
import { ROLE_PERMISSIONS, type Permission, type Role } from '../../permissions/roles';
import type { AuditService } from '../audit/audit.service';
import { RIGHTS_CHANGED_REASON, type ConnectionRegistry } from './connection-registry';
import { createHash } from 'node:crypto';
import type { VigilMetrics } from '../../infra/metrics';
import { assertMayResetSecondFactor } from '../../permissions/user-policy';
import { AttemptScope, AttemptThrottle, type ThrottleSettings } from './attempt-throttle';
import { dummyPasswordHash, verifyPassword } from './passwords';
import { looksLikeRecoveryCode, recoveryCodes } from './recovery-codes';
import { SecretBox } from './secret-box';
import { isDependencyOutage } from '../../infra/outage';
import { AccessTokens, bearerToken, hashRefreshToken, newRefreshToken } from './tokens';

/** What `login` and `refreshSession` hand back. */
export interface AuthResult {
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
  user: User;
  /** The user's role requires a second factor not yet enrolled: the session may only enrol one. */
  mfaEnrollmentRequired: boolean;
}

/** What `enrollMfa` hands back: the secret to type in, or the URI to scan as a QR code. */
export interface MfaEnrollmentResult {
  secret: string;
  otpauthUri: string;
}

/** Sign-in needs a one-time code; `extensions.mfaRequired` tells the client to ask for it. */
export class MfaRequiredError extends VigilError {
  readonly code = ErrorCode.UNAUTHENTICATED;
  constructor() {
    super('This account needs a one-time code (otp) to sign in', ErrorCode.UNAUTHENTICATED, { mfaRequired: true });
  }
}

/** The identity settings (lockouts, session lifetimes, refresh grace), as {@link AuthServiceDeps.settings} gives them. */
export type IdentitySettings = Config['auth'];

export interface AuthServiceDeps {
  config: Config;
  orm: MikroORM;
  logger: Logger;
  audit: AuditService;
  connections: ConnectionRegistry;
  signingKey: Buffer;
  metrics?: VigilMetrics;
  /**
   * The one accessor of the identity settings, read on every use (never captured at start) so
   * they can change while the server runs.
   * @default () => config.auth
   */
  settings?: () => IdentitySettings;
}

/** What `confirmMfaWithRecoveryCodes` and `regenerateRecoveryCodes` hand back: shown once, stored hashed. */
export interface RecoveryCodesResult {
  recoveryCodes: string[];
  generatedAt: Date;
}

/** Why a session ended, as stored in `session.revoked_reason`. */
export type RevocationReason =
  | 'logout'
  | 'revoked'
  | 'refresh-token-reuse'
  | 'session-cap'
  | 'user-disabled'
  | 'password-reset'
  | 'mfa-reset'
  | 'expired';

/** Why a second-factor code is asked for (audit reasons name it). */
type SecondFactorPurpose = 'login' | 'confirmMfa' | 'disableMfa' | 'regenerateRecoveryCodes';

/** The pair a refresh token was rotated into, sealed on the used token for the reuse grace window. */
interface SealedSuccessor {
  refreshToken: string;
  accessToken: string;
  expiresAt: string;
}

interface SessionStateRow {
  user_id: string;
  email: string;
  role: Role;
  disabled: boolean;
  mfa_enabled: boolean;
  revoked_at: Date | null;
  expires_at: Date;
  last_seen_at: Date;
  idle: boolean;
}

const TOTP_STEP_SECONDS = 30;
/** The permissions of a session that must enrol a second factor first. */
const NO_PERMISSIONS: ReadonlySet<Permission> = new Set();
/**
 * How long a valid session's state is reused without reading it again. Every revocation (logout,
 * revoke, session cap, refresh-token reuse, user disabled, role changed, password reset) is a
 * session event: it raises the cluster's session epoch in Redis before the change is answered, and
 * a cached state older than the epoch is not used, so no instance accepts a revoked session after
 * the revocation was acknowledged. This bound only matters while Redis is away (and for
 * idle/expiry, which are re-checked against the clock on every request).
 */
const SESSION_CACHE_MS = 2000;
const SESSION_CACHE_MAX = 10_000;
const INVALID_CREDENTIALS = 'Invalid email or password';
const MAX_EMAIL_LENGTH = 320;

/** Normalises an email address the way accounts are matched (case-insensitive, trimmed). */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * Sign-in, sessions and second factor: issues access tokens (HS256 JWT) and rotating refresh tokens,
 * checks every access token against its session (revoked, idle, expired, user disabled: refused on
 * every instance at once, since the session row is the truth), enforces the lockout and the
 * per-user session cap, and closes the websocket connections of ended sessions everywhere.
 */
export class AuthService {
  readonly tokens: AccessTokens;
  private readonly box: SecretBox;
  private readonly throttle: AttemptThrottle;
  private readonly totp = authenticator.clone({ window: 1, step: TOTP_STEP_SECONDS });

  /** Recently checked valid sessions by id (see SESSION_CACHE_MS). */
  private readonly sessionCache = new Map<string, { state: SessionStateRow; until: number; epoch: string | null }>();

  constructor(private readonly deps: AuthServiceDeps) {
    deps.connections.onSessionEvent((event) => {
      if (event.stale) this.sessionCache.clear();
      else this.forgetSessions(event.sessionIds ?? [], event.userIds ?? []);
    });
    this.tokens = new AccessTokens(deps.signingKey, () => this.settings().accessTokenTtlSeconds);
    this.box = new SecretBox(deps.signingKey);
    this.throttle = new AttemptThrottle(() => deps.orm.em.fork(), (scope) => this.throttleSettings(scope));
  }

  /** The identity settings in force now. */
  settings(): IdentitySettings {
    return this.deps.settings?.() ?? this.deps.config.auth;
  }

  private throttleSettings(scope: AttemptScope): ThrottleSettings {
    const s = this.settings();
    return {
      threshold: scope === AttemptScope.SECOND_FACTOR ? s.mfaLockoutThreshold : s.lockoutThreshold,
      windowSeconds: s.lockoutWindowSeconds,
      durationSeconds: s.lockoutDurationSeconds,
    };
  }

  private get audit(): AuditService {
    return this.deps.audit;
  }

  /**
   * The viewer an `Authorization` value stands for: null without one; UNAUTHENTICATED for a
   * malformed, foreign, unsigned or expired token, or one whose session has ended or whose user is
   * disabled. `websocket`: an operation on a connection accepted at `connection_init`.
   */
  async authenticate(authorization: string | null | undefined, options: { websocket?: boolean } = {}): Promise<Viewer | null> {
    const token = bearerToken(authorization);
    if (!token) return null;
    // A dashboard keeps one connection for hours: its token's expiry is stretched to the session's
    // lifetime, and the session itself (revoked, idle, expired, user disabled) is checked below.
    const tolerance = options.websocket ? this.settings().sessionMaxLifetimeSeconds : 0;
    const claims = await this.tokens.verify(token, tolerance);
    const now = Date.now();
    // Read before the session: an event raised after this read makes the state cached below stale.
    const epoch = await this.deps.connections.epoch();
    const cached = this.sessionCache.get(claims.sessionId);
    // A session event anywhere in the cluster (logout, revocation, role change) since the state was
    // cached sends this request to the database, even before the event itself arrives here.
    const fresh = cached !== undefined && cached.until > now && (epoch === null || cached.epoch === epoch);
    let state: SessionStateRow | undefined;
    let stale = false;
    if (fresh) state = cached.state;
    else {
      try {
        state = await this.sessionState(claims.sessionId);
        this.sessionCache.delete(claims.sessionId);
      } catch (error) {
        // While PostgreSQL is away, a session seen before the outage keeps its last known state
        // (revocations still arrive over pub/sub and drop it); an unknown one cannot be checked.
        if (!cached || !isDependencyOutage(error)) throw error;
        state = cached.state;
        stale = true;
      }
    }
    if (!state || state.user_id !== claims.userId) throw new UnauthenticatedError('The session has ended');
    if (state.revoked_at) throw new UnauthenticatedError('The session has ended');
    if (state.disabled) throw new UnauthenticatedError('The account is disabled');
    if (state.expires_at.getTime() <= now || (state.idle && !stale)) {
      this.sessionCache.delete(claims.sessionId);
      await this.revokeSessions([claims.sessionId], 'expired');
      throw new UnauthenticatedError('The session has expired');
    }
    if (!fresh && !stale) {
      // Read from the database just now: mark the session seen and remember it for a moment.
      await this.touch(claims.sessionId);
      if (this.sessionCache.size >= SESSION_CACHE_MAX) this.sessionCache.clear();
      this.sessionCache.set(claims.sessionId, { state, until: now + SESSION_CACHE_MS, epoch });
    }
    // The roles that require a second factor are read live, so a settings change applies at once.
    const mfaEnrollmentRequired = this.mfaEnrollmentRequired(state.role, state.mfa_enabled);
    return {
      id: state.user_id,
      email: state.email,
      role: state.role,
      sessionId: claims.sessionId,
      permissions: mfaEnrollmentRequired ? NO_PERMISSIONS : ROLE_PERMISSIONS[state.role],
      sessionExpiresAt: state.expires_at,
      mfaEnrollmentRequired,
      mfaEnabled: state.mfa_enabled,
    };
  }

  private enrollmentOf(user: User): boolean {
    return this.mfaEnrollmentRequired(user.role, user.mfaEnabled);
  }

  /** Whether the settings in force require a second factor of `role` that this user has not enrolled. */
  mfaEnrollmentRequired(role: Role, mfaEnabled: boolean): boolean {
    return !mfaEnabled && this.settings().mfaRequiredRoles.includes(role);
  }

  /**
   * When a live session idles out (no request for the idle timeout) or ends at its lifetime, read
   * now; null when it has ended. Websocket connections arm their timers with it.
   */
  async sessionDeadline(sessionId: string): Promise<{ idleAt: Date; expiresAt: Date } | null> {
    const state = await this.sessionState(sessionId);
    if (!state || state.revoked_at || state.disabled || state.idle || state.expires_at.getTime() <= Date.now()) return null;
    return { idleAt: new Date(new Date(state.last_seen_at).getTime() + this.settings().sessionIdleTimeoutSeconds * 1000), expiresAt: state.expires_at };
  }

  /** Ends a session that idled out while only a websocket held it, and closes its connections everywhere. */
  async expireIdleSession(sessionId: string): Promise<void> {
    this.sessionCache.delete(sessionId);
    await this.revokeSessions([sessionId], 'expired');
  }

  /** Drops cached state of these sessions and of every session of these users. */
  private forgetSessions(sessionIds: readonly string[], userIds: readonly string[]): void {
    for (const id of sessionIds) this.sessionCache.delete(id);
    if (!userIds.length) return;
    const users = new Set(userIds);
    for (const [id, entry] of this.sessionCache) if (users.has(entry.state.user_id)) this.sessionCache.delete(id);
  }

  private async sessionState(sessionId: string): Promise<SessionStateRow | undefined> {
    if (!/^[0-9a-f-]{36}$/i.test(sessionId)) return undefined;
    const rows = await this.deps.orm.em
      .fork()
      .getConnection()
      .execute<SessionStateRow[]>(
        `select s.user_id, u.email, u.role, u.disabled, u.mfa_enabled, s.revoked_at, s.expires_at, s.last_seen_at,
                s.last_seen_at < now() - make_interval(secs => ?) as idle
           from session s join "user" u on u.id = s.user_id
          where s.id = ?`,
        [this.settings().sessionIdleTimeoutSeconds, sessionId],
      );
    const row = rows[0];
    return row ? { ...row, expires_at: new Date(row.expires_at), revoked_at: row.revoked_at ? new Date(row.revoked_at) : null } : undefined;
  }

  /** Marks the session as seen, at most once per interval so requests do not each write a row. */
  private async touch(sessionId: string): Promise<void> {
    const interval = Math.max(1, Math.min(60, Math.floor(this.settings().sessionIdleTimeoutSeconds / 10)));
    await this.deps.orm.em
      .fork()
      .getConnection()
      .execute('update session set last_seen_at = now() where id = ? and last_seen_at < now() - make_interval(secs => ?)', [
        sessionId,
        interval,
      ]);
  }

  /**
   * Signs in. Unknown emails and wrong passwords get the same error after the same work (a dummy
   * argon2 verification). Every attempt is reserved against the address's lockout before the
   * password is checked (see {@link AttemptThrottle}), so at most the threshold of passwords per
   * window is ever verified, however many requests arrive at once; a second-factor code is
   * reserved against the account's own lockout the same way. `otp` takes a TOTP code or, once
   * each, a recovery code.
   */
  async login(meta: RequestMeta, emailInput: string, password: string, otp?: string | null): Promise<AuthResult> {
    const email = normalizeEmail(emailInput);
    if (!email || email.length > MAX_EMAIL_LENGTH) throw new BadUserInputError('email is not a valid address', 'email');
    if (password.length > 1024) throw new BadUserInputError('password is too long', 'password');

    const reservation = await this.throttle.reserve(AttemptScope.PASSWORD, email);
    if (!reservation.allowed) {
      await this.audit.recordSecurityEvent(meta, { action: 'LOGIN_FAILED', outcome: 'DENIED', reason: 'account locked', changes: { email } });
      throw new AccountLockedError(reservation.retryAfterSeconds);
    }

    const em = this.deps.orm.em.fork();
    const user = await findUserByEmail(em, email);
    this.deps.metrics?.credentialChecks.inc({ kind: 'password' });
    const passwordOk = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), password);
    if (!user || !passwordOk || user.disabled) {
      const reason = !user ? 'unknown email' : !passwordOk ? 'wrong password' : 'account disabled';
      await this.failLogin(meta, email, reason, user?.id, reservation.reachedThreshold);
      throw new UnauthenticatedError(INVALID_CREDENTIALS);
    }
    // The password was right: give back this attempt's reservation, unless concurrent attempts
    // locked the address while it was being checked.
    const released = await this.throttle.release(AttemptScope.PASSWORD, email);
    if (!released.stands) {
      await this.recordLock(meta, email, user.id, 'failed sign-ins while this one was checked', released.retryAfterSeconds);
      throw new AccountLockedError(released.retryAfterSeconds);
    }

    if (user.mfaEnabled) {
      if (!otp) {
        await this.audit.recordSecurityEvent(actorMeta(meta, user), { action: 'MFA_REQUIRED', outcome: 'DENIED', resourceType: 'User', resourceId: user.id, reason: 'no one-time code' });
        throw new MfaRequiredError();
      }
      const accepted = await this.checkSecondFactor(em, actorMeta(meta, user), user, user.mfaSecretEncrypted ?? null, otp, 'login');
      if (!accepted) throw new UnauthenticatedError('The one-time code is not valid or was already used');
    }

    const result = await this.openSession(em, meta, user);
    await this.audit.recordSecurityEvent(actorMeta(meta, user, result.sessionId), {
      action: 'LOGIN_SUCCESS',
      resourceType: 'Session',
      resourceId: result.sessionId,
    });
    return result.auth;
  }

  private async failLogin(meta: RequestMeta, email: string, reason: string, userId: string | undefined, reachedThreshold: boolean): Promise<void> {
    await this.audit.recordSecurityEvent(meta, {
      action: 'LOGIN_FAILED',
      outcome: 'FAILED',
      resourceType: userId ? 'User' : null,
      resourceId: userId ?? null,
      reason,
      changes: { email },
    });
    if (reachedThreshold) await this.recordLock(meta, email, userId, `${this.settings().lockoutThreshold} failed sign-ins`, this.settings().lockoutDurationSeconds);
  }

  private async recordLock(meta: RequestMeta, email: string, userId: string | undefined, reason: string, lockedForSeconds: number): Promise<void> {
    await this.audit.recordSecurityEvent(meta, {
      action: 'ACCOUNT_LOCKED',
      outcome: 'DENIED',
      resourceType: userId ? 'User' : null,
      resourceId: userId ?? null,
      reason,
      changes: { email, lockedForSeconds },
    });
  }

  /**
   * Checks a second-factor code for `purpose`: a six-digit TOTP code from `sealedSecret`, or (at
   * sign-in only) an unused recovery code. The attempt is reserved against the account's
   * second-factor lockout first; the attempt that reaches the threshold locks the second factor
   * (a `SECOND_FACTOR_LOCKED` security event, which raises an alert).
   * @returns whether the code was accepted.
   * @throws {AccountLockedError} while the second factor is locked.
   */
  private async checkSecondFactor(
    em: EntityManager,
    meta: RequestMeta,
    user: User,
    sealedSecret: string | null,
    code: string,
    purpose: SecondFactorPurpose,
  ): Promise<boolean> {
    const lockedMessage = 'The second factor of this account is temporarily locked after repeated wrong codes';
    const reservation = await this.throttle.reserve(AttemptScope.SECOND_FACTOR, user.id);
    if (!reservation.allowed) {
      await this.audit.recordSecurityEvent(meta, { action: 'MFA_FAILED', outcome: 'DENIED', resourceType: 'User', resourceId: user.id, reason: `${purpose}: second factor locked` });
      throw new AccountLockedError(reservation.retryAfterSeconds, lockedMessage);
    }
    let remainingRecoveryCodes: number | null = null;
    let accepted = false;
    if (/^\d{6}$/.test(code.trim())) {
      this.deps.metrics?.credentialChecks.inc({ kind: 'totp' });
      accepted = await this.acceptTotp(em, user, sealedSecret, code);
    } else if (purpose === 'login' && looksLikeRecoveryCode(code)) {
      this.deps.metrics?.credentialChecks.inc({ kind: 'recovery-code' });
      remainingRecoveryCodes = await recoveryCodes.consume(em, user.id, code);
      accepted = remainingRecoveryCodes !== null;
    }
    if (!accepted) {
      await this.audit.recordSecurityEvent(meta, { action: 'MFA_FAILED', outcome: 'FAILED', resourceType: 'User', resourceId: user.id, reason: `${purpose}: invalid or reused code` });
      if (reservation.reachedThreshold) await this.recordSecondFactorLock(meta, user.id, this.settings().lockoutDurationSeconds);
      return false;
    }
    const released = await this.throttle.release(AttemptScope.SECOND_FACTOR, user.id);
    if (!released.stands) {
      await this.recordSecondFactorLock(meta, user.id, released.retryAfterSeconds);
      throw new AccountLockedError(released.retryAfterSeconds, lockedMessage);
    }
    if (remainingRecoveryCodes !== null) {
      await this.audit.recordSecurityEvent(meta, {
        action: 'MFA_RECOVERY_CODE_USED',
        resourceType: 'User',
        resourceId: user.id,
        reason: 'a recovery code replaced the one-time code at sign-in',
        changes: { remainingRecoveryCodes },
      });
    }
    return true;
  }

  private async recordSecondFactorLock(meta: RequestMeta, userId: string, lockedForSeconds: number): Promise<void> {
    await this.audit.recordSecurityEvent(meta, {
      action: 'SECOND_FACTOR_LOCKED',
      outcome: 'DENIED',
      resourceType: 'User',
      resourceId: userId,
      reason: `${this.settings().mfaLockoutThreshold} wrong second-factor codes`,
      changes: { lockedForSeconds },
    });
  }

  private async openSession(em: EntityManager, meta: RequestMeta, user: User): Promise<{ auth: AuthResult; sessionId: string }> {
    const { sessionMaxLifetimeSeconds, maxSessionsPerUser, sessionIdleTimeoutSeconds } = this.settings();
    const refreshToken = newRefreshToken();
    const evicted: string[] = [];
    const session = await em.transactional(async (tx) => {
      // Serialises concurrent sign-ins of one user so the cap holds.
      await tx.getConnection().execute('select id from "user" where id = ? for update', [user.id], 'all', tx.getTransactionContext());
      const created = tx.create(Session, {
        userId: user.id,
        ip: meta.ip,
        userAgent: meta.userAgent,
        expiresAt: new Date(Date.now() + sessionMaxLifetimeSeconds * 1000),
      });
      // The entities declare no relation, so the session is flushed before the token that references it.
      await tx.flush();
      tx.create(RefreshToken, { tokenHash: hashRefreshToken(refreshToken), sessionId: created.id });
      await tx.flush();
      const active = await tx.find(
        Session,
        {
          userId: user.id,
          revokedAt: null,
          expiresAt: { $gt: new Date() },
          lastSeenAt: { $gt: new Date(Date.now() - sessionIdleTimeoutSeconds * 1000) },
        },
        { orderBy: { createdAt: 'desc', id: 'desc' } },
      );
      for (const old of active.filter((s) => s.id !== created.id).slice(maxSessionsPerUser - 1)) {
        old.revokedAt = new Date();
        old.revokedReason = 'session-cap';
        evicted.push(old.id);
      }
      await tx.flush();
      return created;
    });
    if (evicted.length) {
      await this.deps.connections.publish({ sessionIds: evicted, reason: 'session-cap' });
      await this.audit.recordSecurityEvent(actorMeta(meta, user, session.id), {
        action: 'SESSION_REVOKED',
        resourceType: 'Session',
        resourceId: evicted.join(','),
        reason: `session cap of ${maxSessionsPerUser} reached`,
      });
    }
    const access = await this.tokens.sign(user.id, session.id, session.expiresAt);
    return {
      auth: { accessToken: access.token, refreshToken, expiresAt: access.expiresAt, user, mfaEnrollmentRequired: this.enrollmentOf(user) },
      sessionId: session.id,
    };
  }

  /**
   * Exchanges a refresh token for a new pair. A token presented a second time revokes its whole
   * session (the holder or a thief replayed it) — except within the reuse grace window
   * (`refreshReuseGraceSeconds`) and from the same client (address and user agent): two tabs, or
   * two requests that failed at once, then both get the pair the token was rotated into, sealed on
   * the used token for that purpose.
   */
  async refresh(meta: RequestMeta, refreshToken: string): Promise<AuthResult> {
    const invalid = () => new UnauthenticatedError('The refresh token is not valid');
    if (!refreshToken || refreshToken.length > 200) throw invalid();
    const tokenHash = hashRefreshToken(refreshToken);
    const client = clientHash(meta);
    const em = this.deps.orm.em.fork();
    const next = newRefreshToken();
    const graceMs = this.settings().refreshReuseGraceSeconds * 1000;

    const outcome = await em.transactional(async (tx) => {
      // A concurrent claim of the same token waits here for the first one's commit, and then sees
      // its sealed successor.
      const claimed = await tx.nativeUpdate(RefreshToken, { tokenHash, usedAt: null }, { usedAt: new Date(), clientHash: client });
      const record = await tx.findOne(RefreshToken, { tokenHash });
      if (!record) return { kind: 'unknown' as const };
      if (claimed === 0) {
        const successor = this.graceSuccessor(record, client, graceMs);
        if (!successor) return { kind: 'reuse' as const, sessionId: record.sessionId };
        const unused = await tx.findOne(RefreshToken, { tokenHash: hashRefreshToken(successor.refreshToken), usedAt: null });
        if (!unused) return { kind: 'reuse' as const, sessionId: record.sessionId };
        const session = await tx.findOne(Session, { id: record.sessionId });
        const user = session ? await tx.findOne(User, { id: session.userId }) : null;
        if (!session || !user || session.revokedAt || user.disabled) return { kind: 'unknown' as const };
        return { kind: 'replayed' as const, session, user, successor };
      }
      const session = await tx.findOne(Session, { id: record.sessionId });
      const user = session ? await tx.findOne(User, { id: session.userId }) : null;
      if (!session || !user) return { kind: 'unknown' as const };
      const idleCutoff = Date.now() - this.settings().sessionIdleTimeoutSeconds * 1000;
      if (session.revokedAt || user.disabled) return { kind: 'ended' as const, session, user };
      if (session.expiresAt.getTime() <= Date.now() || session.lastSeenAt.getTime() < idleCutoff) {
        session.revokedAt = new Date();
        session.revokedReason = 'expired';
        return { kind: 'ended' as const, session, user };
      }
      session.lastSeenAt = new Date();
      tx.create(RefreshToken, { tokenHash: hashRefreshToken(next), sessionId: session.id });
      const access = await this.tokens.sign(user.id, session.id, session.expiresAt);
      if (graceMs > 0) {
        const sealed: SealedSuccessor = { refreshToken: next, accessToken: access.token, expiresAt: access.expiresAt.toISOString() };
        record.successorSealed = this.box.encrypt(JSON.stringify(sealed));
      }
      await this.audit.record(tx, actorMeta(meta, user, session.id), {
        action: 'SESSION_REFRESH',
        resourceType: 'Session',
        resourceId: session.id,
      });
      return { kind: 'ok' as const, session, user, access };
    });

    if (outcome.kind === 'unknown') throw invalid();
    if (outcome.kind === 'reuse') {
      const owner = await em.findOne(Session, { id: outcome.sessionId });
      await this.revokeSessions([outcome.sessionId], 'refresh-token-reuse');
      await this.audit.recordSecurityEvent(meta, {
        action: 'REFRESH_TOKEN_REUSE',
        outcome: 'DENIED',
        resourceType: 'Session',
        resourceId: outcome.sessionId,
        reason: 'a refresh token was presented a second time; the session was revoked',
        changes: owner ? { userId: owner.userId } : null,
      });
      throw invalid();
    }
    if (outcome.kind === 'ended') {
      await this.deps.connections.publish({ sessionIds: [outcome.session.id], reason: 'expired' });
      throw new UnauthenticatedError('The session has ended');
    }
    if (outcome.kind === 'replayed') {
      await this.audit.record(em.fork(), actorMeta(meta, outcome.user, outcome.session.id), {
        action: 'SESSION_REFRESH',
        resourceType: 'Session',
        resourceId: outcome.session.id,
        reason: 'the same client presented the token again within the reuse grace window; it got the same new pair',
      });
      const { refreshToken: same, accessToken, expiresAt } = outcome.successor;
      return { accessToken, refreshToken: same, expiresAt: new Date(expiresAt), user: outcome.user, mfaEnrollmentRequired: this.enrollmentOf(outcome.user) };
    }
    return { accessToken: outcome.access.token, refreshToken: next, expiresAt: outcome.access.expiresAt, user: outcome.user, mfaEnrollmentRequired: this.enrollmentOf(outcome.user) };
  }

  /** The pair a used token was rotated into, when this reuse falls within the grace window. */
  private graceSuccessor(record: RefreshToken, client: string, graceMs: number): SealedSuccessor | null {
    if (graceMs <= 0 || !record.usedAt || !record.successorSealed || record.clientHash !== client) return null;
    if (Date.now() - record.usedAt.getTime() > graceMs) return null;
    try {
      return JSON.parse(this.box.decrypt(record.successorSealed)) as SealedSuccessor;
    } catch {
      return null;
    }
  }

  /** Ends the viewer's own session. */
  async logout(meta: RequestMeta): Promise<boolean> {
    if (!meta.sessionId) throw new UnauthenticatedError();
    await this.endSession(meta, meta.sessionId, 'logout', 'LOGOUT');
    return true;
  }

  /**
   * Ends a session by id. Whether the viewer may end it (own, or any with ADMIN_ACCESS) is the
   * permission map's decision; here an unknown id is NOT_FOUND.
   */
  async revokeSession(meta: RequestMeta, sessionId: string): Promise<boolean> {
    await this.endSession(meta, sessionId, 'revoked', 'SESSION_REVOKE');
    return true;
  }

  /** The owner of a session, for the permission rule on `revokeSession`; null when unknown. */
  async sessionOwner(sessionId: string): Promise<string | null> {
    if (!/^[0-9a-f-]{36}$/i.test(sessionId)) return null;
    const session = await this.deps.orm.em.fork().findOne(Session, { id: sessionId }, { fields: ['userId'] });
    return session?.userId ?? null;
  }

  private async endSession(meta: RequestMeta, sessionId: string, reason: RevocationReason, action: string): Promise<void> {
    if (!/^[0-9a-f-]{36}$/i.test(sessionId)) throw new NotFoundError('Session', sessionId);
    const em = this.deps.orm.em.fork();
    // The id as stored (PostgreSQL reads a UUID in any case): the one cached states and open
    // connections are known by, whatever spelling the caller used.
    const storedId = await em.transactional(async (tx) => {
      const session = await tx.findOne(Session, { id: sessionId });
      if (!session) throw new NotFoundError('Session', sessionId);
      const wasActive = !session.revokedAt;
      if (wasActive) {
        session.revokedAt = new Date();
        session.revokedReason = reason;
      }
      await this.audit.record(tx, meta, {
        action,
        resourceType: 'Session',
        resourceId: session.id,
        changes: { userId: session.userId, alreadyEnded: !wasActive },
      });
      return session.id;
    });
    await this.deps.connections.publish({ sessionIds: [storedId], reason });
  }

  /** Revokes sessions outside a request (reuse detection, expiry) and closes their websockets. */
  async revokeSessions(sessionIds: string[], reason: RevocationReason): Promise<void> {
    if (!sessionIds.length) return;
    await this.deps.orm.em
      .fork()
      .nativeUpdate(Session, { id: { $in: sessionIds }, revokedAt: null }, { revokedAt: new Date(), revokedReason: reason });
    await this.deps.connections.publish({ sessionIds, reason });
  }

  /**
   * Revokes every session of a user inside the caller's transaction; call
   * {@link announceUserChange} after it commits.
   */
  async revokeUserSessions(em: EntityManager, userId: string, reason: RevocationReason): Promise<number> {
    return em.nativeUpdate(Session, { userId, revokedAt: null }, { revokedAt: new Date(), revokedReason: reason });
  }

  /**
   * Tells every instance that a user's rights changed (role, disabled, sessions revoked): their
   * websocket connections are closed, and subscriptions are checked again when the client
   * reconnects. HTTP requests read the role from the database on each request already.
   */
  announceUserChange(userId: string, reason: string): Promise<void> {
    return this.deps.connections.publish({ userIds: [userId], reason });
  }

  /** Lifts the password lockout of an address inside the caller's transaction (a password reset). */
  async clearPasswordLockout(tx: EntityManager, email: string): Promise<void> {
    await this.throttle.clear(tx, AttemptScope.PASSWORD, normalizeEmail(email));
  }

  /** The viewer's sessions that have not ended, newest first. */
  async sessionsOf(userId: string): Promise<Session[]> {
    const idleCutoff = new Date(Date.now() - this.settings().sessionIdleTimeoutSeconds * 1000);
    return this.deps.orm.em
      .fork()
      .find(
        Session,
        { userId, revokedAt: null, expiresAt: { $gt: new Date() }, lastSeenAt: { $gt: idleCutoff } },
        { orderBy: { createdAt: 'desc', id: 'desc' } },
      );
  }

  /** Starts TOTP enrolment: a new secret, active once {@link confirmMfa} sees a code from it. */
  async enrollMfa(meta: RequestMeta): Promise<MfaEnrollmentResult> {
    const userId = requireActor(meta);
    const secret = this.totp.generateSecret(20);
    const user = await this.deps.orm.em.fork().transactional(async (tx) => {
      const found = await tx.findOneOrFail(User, { id: userId }, { failHandler: () => new NotFoundError('User', userId) });
      if (found.mfaEnabled) throw new ConflictError('MFA is already enabled; disable it first to enrol a new device');
      found.mfaPendingSecretEncrypted = this.box.encrypt(secret);
      await this.audit.record(tx, meta, { action: 'MFA_ENROLL', resourceType: 'User', resourceId: userId });
      return found;
    });
    return { secret, otpauthUri: this.totp.keyuri(user.email, 'Vigil', secret) };
  }

  /**
   * Activates the pending TOTP secret when `otp` is a current code from it, and issues ten
   * single-use recovery codes (only their hashes are kept). Wrong codes count towards the
   * account's second-factor lockout.
   */
  async confirmMfa(meta: RequestMeta, otp: string): Promise<RecoveryCodesResult> {
    const userId = requireActor(meta);
    const em = this.deps.orm.em.fork();
    const user = await em.findOneOrFail(User, { id: userId }, { failHandler: () => new NotFoundError('User', userId) });
    if (user.mfaEnabled) throw new ConflictError('MFA is already enabled');
    if (!user.mfaPendingSecretEncrypted) throw new BadUserInputError('There is no MFA enrolment to confirm; call enrollMfa first', 'otp');
    if (!(await this.checkSecondFactor(em, meta, user, user.mfaPendingSecretEncrypted, otp, 'confirmMfa'))) {
      throw new BadUserInputError('The one-time code is not valid', 'otp');
    }
    const codes = await em.transactional(async (tx) => {
      const fresh = await tx.findOneOrFail(User, { id: userId });
      fresh.mfaSecretEncrypted = fresh.mfaPendingSecretEncrypted;
      fresh.mfaPendingSecretEncrypted = null;
      fresh.mfaEnabled = true;
      const issued = await recoveryCodes.replace(tx, userId);
      await this.audit.record(tx, meta, {
        action: 'MFA_ENABLE',
        resourceType: 'User',
        resourceId: userId,
        changes: { before: { mfaEnabled: false }, after: { mfaEnabled: true }, recoveryCodesIssued: issued.length },
      });
      return issued;
    });
    // A session held back until this enrolment gets its role's rights: cached state is dropped on
    // every instance, and its websockets reconnect (4403) to be checked again.
    if (this.mfaEnrollmentRequired(user.role, false)) await this.announceUserChange(userId, RIGHTS_CHANGED_REASON);
    return { recoveryCodes: codes, generatedAt: new Date() };
  }

  /**
   * Issues ten new recovery codes for the viewer's active second factor; the old ones stop working.
   * Needs a current TOTP code (counted towards the second-factor lockout). Audited, and raises an
   * alert, since it is what someone holding a stolen device would do.
   */
  async regenerateRecoveryCodes(meta: RequestMeta, otp: string): Promise<RecoveryCodesResult> {
    const userId = requireActor(meta);
    const em = this.deps.orm.em.fork();
    const user = await em.findOneOrFail(User, { id: userId }, { failHandler: () => new NotFoundError('User', userId) });
    if (!user.mfaEnabled) throw new ConflictError('MFA is not enabled');
    if (!(await this.checkSecondFactor(em, meta, user, user.mfaSecretEncrypted ?? null, otp, 'regenerateRecoveryCodes'))) {
      throw new BadUserInputError('The one-time code is not valid or was already used', 'otp');
    }
    const entry = { action: 'MFA_RECOVERY_CODES_REGENERATED', resourceType: 'User', resourceId: userId, changes: { recoveryCodesIssued: 0 } };
    const codes = await em.transactional(async (tx) => {
      const issued = await recoveryCodes.replace(tx, userId);
      entry.changes.recoveryCodesIssued = issued.length;
      await this.audit.record(tx, meta, entry);
      return issued;
    });
    this.audit.announceSecurityEvent(meta, entry);
    return { recoveryCodes: codes, generatedAt: new Date() };
  }

  /** Turns TOTP off and drops the recovery codes; needs a current code so a stolen access token alone cannot do it. */
  async disableMfa(meta: RequestMeta, otp: string): Promise<boolean> {
    const userId = requireActor(meta);
    const em = this.deps.orm.em.fork();
    const user = await em.findOneOrFail(User, { id: userId }, { failHandler: () => new NotFoundError('User', userId) });
    if (!user.mfaEnabled) throw new ConflictError('MFA is not enabled');
    if (this.mfaEnrollmentRequired(user.role, false)) {
      throw new ForbiddenError(`The ${user.role} role requires a second factor: it cannot be turned off (an administrator can reset a lost one)`);
    }
    if (!(await this.checkSecondFactor(em, meta, user, user.mfaSecretEncrypted ?? null, otp, 'disableMfa'))) {
      throw new BadUserInputError('The one-time code is not valid or was already used', 'otp');
    }
    await em.transactional(async (tx) => {
      const fresh = await tx.findOneOrFail(User, { id: userId });
      fresh.mfaSecretEncrypted = null;
      fresh.mfaPendingSecretEncrypted = null;
      fresh.mfaEnabled = false;
      await recoveryCodes.clear(tx, userId);
      await this.audit.record(tx, meta, { action: 'MFA_DISABLE', resourceType: 'User', resourceId: userId, changes: { before: { mfaEnabled: true }, after: { mfaEnabled: false } } });
    });
    return true;
  }

  /**
   * An administrator resets another user's lost second factor: TOTP off, recovery codes and the
   * second-factor lockout dropped, every session of that user revoked (their websockets close).
   * Not one's own account (that is `disableMfa`, with a code), nor an account ranked above one's
   * own. Audited in the same transaction, and raises an alert.
   */
  async resetSecondFactor(meta: RequestMeta, userId: string): Promise<User> {
    const actor = meta.actor;
    if (!actor) throw new UnauthenticatedError();
    if (!/^[0-9a-f-]{36}$/i.test(userId)) throw new NotFoundError('User', userId);
    const entry = { action: 'MFA_RESET', resourceType: 'User', resourceId: userId, changes: {} as Record<string, unknown> };
    const user = await this.deps.orm.em.fork().transactional(async (tx) => {
      const found = await tx.findOne(User, { id: userId });
      if (!found) throw new NotFoundError('User', userId);
      assertMayResetSecondFactor(actor, found);
      const before = { mfaEnabled: found.mfaEnabled };
      found.mfaSecretEncrypted = null;
      found.mfaPendingSecretEncrypted = null;
      found.mfaEnabled = false;
      found.mfaLastStep = null;
      await recoveryCodes.clear(tx, userId);
      await this.throttle.clear(tx, AttemptScope.SECOND_FACTOR, userId);
      const sessionsRevoked = await this.revokeUserSessions(tx, userId, 'mfa-reset');
      entry.changes = { before, after: { mfaEnabled: false }, sessionsRevoked };
      await this.audit.record(tx, meta, entry);
      return found;
    });
    await this.announceUserChange(userId, 'mfa-reset');
    this.audit.announceSecurityEvent(meta, entry);
    return user;
  }

  /**
   * Checks a TOTP code (±1 step of clock drift) and records its time step, atomically refusing any
   * step at or before the last one accepted: a code works once.
   */
  private async acceptTotp(em: EntityManager, user: User, sealedSecret: string | null, otp: string): Promise<boolean> {
    if (!sealedSecret || !/^\d{6}$/.test(otp.trim())) return false;
    let secret: string;
    try {
      secret = this.box.decrypt(sealedSecret);
    } catch (error) {
      this.deps.logger.error({ err: error, userId: user.id }, 'cannot decrypt an MFA secret (was the signing key changed?)');
      return false;
    }
    const delta = this.totp.checkDelta(otp.trim(), secret);
    if (delta === null) return false;
    const step = Math.floor(Date.now() / 1000 / TOTP_STEP_SECONDS) + delta;
    const updated = await em
      .getConnection()
      .execute<{ id: string }[]>(
        'update "user" set mfa_last_step = ? where id = ? and (mfa_last_step is null or mfa_last_step < ?) returning id',
        [step, user.id, step],
      );
    return updated.length === 1;
  }
}

/** Who presented a refresh token, as far as the server can tell (address and user agent), hashed. */
function clientHash(meta: RequestMeta): string {
  return createHash('sha256').update(`${meta.ip}\n${meta.userAgent ?? ''}`, 'utf8').digest('hex');
}

/** The request's metadata with the signed-in (or signing-in) user as actor. */
export function actorMeta(meta: RequestMeta, user: Pick<User, 'id' | 'email' | 'role'>, sessionId?: string): RequestMeta {
  return { ...meta, actor: { id: user.id, email: user.email, role: user.role }, sessionId: sessionId ?? meta.sessionId };
}

function requireActor(meta: RequestMeta): string {
  if (!meta.actor) throw new UnauthenticatedError();
  return meta.actor.id;
}

/** The account with an email address, matched case-insensitively (served by the `lower(email)` index). */
export function findUserByEmail(em: EntityManager, email: string): Promise<User | null> {
  return em.findOne(User, { [raw('lower(email)')]: normalizeEmail(email) });
}

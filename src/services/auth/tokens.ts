import { LRUCache } from 'lru-cache';
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { AccessTokenExpiredError, UnauthenticatedError } from '../../errors';

// jose 6 is ESM-only; a dynamic import keeps this CommonJS module loadable.
type Jose = typeof import('jose', { with: { 'resolution-mode': 'import' } });
let joseModule: Promise<Jose> | undefined;
const loadJose = () => (joseModule ??= import('jose'));

const ISSUER = 'vigil';
const AUDIENCE = 'vigil';

/** What an access token says: whose it is and which session it belongs to. */
export interface AccessClaims {
  userId: string;
  sessionId: string;
  expiresAt: Date;
}

/** How many verified access tokens are remembered: at a few hundred bytes each, a few megabytes. */
const VERIFIED_TOKENS_MAX = 10_000;

/** What a successful verification found; only its time claims still depend on the clock. */
interface VerifiedToken {
  userId: string;
  sessionId: string;
  exp: number;
  nbf: number | undefined;
}

/** Signs and verifies access tokens (HS256 JWTs); nothing else is accepted (no `alg: none`). */
export class AccessTokens {
  /** The HMAC key imported once: given the raw bytes, jose imports it again on every verification. */
  private verifyKey: Promise<webcrypto.CryptoKey> | undefined;
  /**
   * Tokens whose signature and claims were verified, kept until their `exp`: a client sends the
   * same token with every request, and the HMAC check costs more than the rest of `verify`. The
   * time claims are checked again on every use, against the clock and the caller's tolerance.
   */
  private readonly verified = new LRUCache<string, VerifiedToken>({ max: VERIFIED_TOKENS_MAX });

  constructor(
    private readonly key: Uint8Array,
    /** Seconds an access token lives; a function is read at every signing (a live setting). */
    private readonly ttlSeconds: number | (() => number),
  ) {}

  /** A token for a session, ending after the configured TTL or at `notAfter`, whichever is first. */
  async sign(userId: string, sessionId: string, notAfter: Date): Promise<{ token: string; expiresAt: Date }> {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const ttl = typeof this.ttlSeconds === 'function' ? this.ttlSeconds() : this.ttlSeconds;
    const exp = Math.min(nowSeconds + ttl, Math.floor(notAfter.getTime() / 1000));
    const { SignJWT } = await loadJose();
    const token = await new SignJWT({ sid: sessionId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(exp)
      .setJti(randomBytes(8).toString('hex'))
      .sign(this.key);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  /**
   * @param toleranceSeconds how long after its expiry a token is still accepted (0 for HTTP).
   * @throws {UnauthenticatedError} for a malformed, foreign, tampered, unsigned or expired token.
   */
  async verify(token: string, toleranceSeconds = 0): Promise<AccessClaims> {
    const known = this.verified.get(token);
    if (known) return claimsOf(checkTimes(known, toleranceSeconds));
    const { errors: joseErrors, jwtVerify } = await loadJose();
    try {
      this.verifyKey ??= webcrypto.subtle.importKey('raw', this.key, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
      const { payload } = await jwtVerify(token, await this.verifyKey, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ['sub', 'exp', 'iat'],
        clockTolerance: toleranceSeconds,
      });
      if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string' || typeof payload.exp !== 'number') {
        throw new UnauthenticatedError('The access token is not valid');
      }
      const verified: VerifiedToken = { userId: payload.sub, sessionId: payload.sid, exp: payload.exp, nbf: payload.nbf };
      // Until `exp` only: past it, a websocket's tolerance is left to jose again.
      const ttl = Math.floor(payload.exp * 1000 - Date.now());
      if (ttl > 0) this.verified.set(token, verified, { ttl });
      return claimsOf(verified);
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new AccessTokenExpiredError();
      if (error instanceof UnauthenticatedError) throw error;
      throw new UnauthenticatedError('The access token is not valid');
    }
  }
}

/**
 * The time checks jose makes, with its comparisons and whole-second clock, for a token it verified
 * earlier: refused while `nbf` is more than `toleranceSeconds` ahead, or once `exp` is
 * `toleranceSeconds` or more in the past.
 */
function checkTimes(token: VerifiedToken, toleranceSeconds: number): VerifiedToken {
  const now = Math.floor(Date.now() / 1000);
  if (token.nbf !== undefined && token.nbf > now + toleranceSeconds) throw new UnauthenticatedError('The access token is not valid');
  if (token.exp <= now - toleranceSeconds) throw new AccessTokenExpiredError();
  return token;
}

function claimsOf(token: VerifiedToken): AccessClaims {
  return { userId: token.userId, sessionId: token.sessionId, expiresAt: new Date(token.exp * 1000) };
}

/** A fresh opaque refresh token (256 random bits). */
export function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

/** How refresh tokens are stored: SHA-256, hex (they are random, so no salt is needed). */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The token of an `Authorization: Bearer …` value; null when there is none. */
export function bearerToken(authorization: string | null | undefined): string | null {
  if (authorization === null || authorization === undefined || authorization.trim() === '') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) throw new UnauthenticatedError('The Authorization header must be "Bearer <access token>"');
  return match[1]!;
}

import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { UnauthenticatedError } from '../../errors';

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

/** Signs and verifies access tokens (HS256 JWTs); nothing else is accepted (no `alg: none`). */
export class AccessTokens {
  /** The HMAC key imported once: given the raw bytes, jose imports it again on every verification. */
  private verifyKey: Promise<webcrypto.CryptoKey> | undefined;

  constructor(
    private readonly key: Uint8Array,
    private readonly ttlSeconds: number,
  ) {}

  /** A token for a session, ending after the configured TTL or at `notAfter`, whichever is first. */
  async sign(userId: string, sessionId: string, notAfter: Date): Promise<{ token: string; expiresAt: Date }> {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const exp = Math.min(nowSeconds + this.ttlSeconds, Math.floor(notAfter.getTime() / 1000));
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
      return { userId: payload.sub, sessionId: payload.sid, expiresAt: new Date(payload.exp * 1000) };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new UnauthenticatedError('The access token has expired');
      if (error instanceof UnauthenticatedError) throw error;
      throw new UnauthenticatedError('The access token is not valid');
    }
  }
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

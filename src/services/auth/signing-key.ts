import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, type Config } from '../../config';
import { entropyBits } from '../security/security-audit';

/** Name of the generated key's file under the data directory. */
export const SIGNING_KEY_FILE = 'jwt-secret';

/** Least estimated entropy of a configured key in production. */
const MIN_KEY_BITS = 100;

/**
 * Why a configured key is obviously weak (few distinct characters, a short pattern repeated, little
 * entropy), or null. Finer judgement (guessable words) is the security audit's.
 */
export function signingKeyWeakness(key: string): string | null {
  const distinct = new Set(key).size;
  if (distinct < 10) return `it has only ${distinct} distinct characters`;
  if (/^(.{1,16}?)\1+$/s.test(key)) return 'it is a short pattern repeated';
  const bits = Math.round(entropyBits(key));
  if (bits < MIN_KEY_BITS) return `it carries about ${bits} bits of entropy (at least ${MIN_KEY_BITS} needed)`;
  return null;
}

/**
 * The key that signs access tokens: `VIGIL_JWT_SECRET` when set (configuration requires it in
 * production, where an obviously weak one is refused here), otherwise a random key generated once
 * and kept under `<dataDir>/jwt-secret` with mode 0600 so sessions survive restarts.
 * @throws {ConfigError} for a weak key in production.
 */
export function resolveSigningKey(config: Pick<Config, 'jwtSecret' | 'dataDir'> & Partial<Pick<Config, 'env'>>): Buffer {
  if (config.jwtSecret) {
    const weakness = config.env === 'production' ? signingKeyWeakness(config.jwtSecret) : null;
    if (weakness) throw new ConfigError(`Invalid setting VIGIL_JWT_SECRET: too weak, ${weakness}; generate one with \`openssl rand -base64 48\``);
    return Buffer.from(config.jwtSecret, 'utf8');
  }
  const file = path.join(config.dataDir, SIGNING_KEY_FILE);
  if (existsSync(file)) {
    const stored = readFileSync(file, 'utf8').trim();
    if (stored.length >= 64) {
      chmodSync(file, 0o600);
      return Buffer.from(stored, 'utf8');
    }
  }
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(48).toString('base64url');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return Buffer.from(key, 'utf8');
}

import { hash, verify, type Algorithm } from '@node-rs/argon2';
import { BadUserInputError } from '../../errors';

// The enum is a `const enum` in an ambient declaration, which isolatedModules cannot inline.
const ARGON2ID = 2 as Algorithm;

/** OWASP's argon2id baseline: 19 MiB, two passes, one lane. */
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** Shortest password accepted for an account. */
export const MIN_PASSWORD_LENGTH = 12;

/** Hashes a password with argon2id (PHC string with its own salt). */
export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

/** Whether `password` matches `passwordHash`; a malformed hash is a mismatch, never a crash. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * A hash to verify against when the email is unknown, so an unknown account costs the same time as
 * a wrong password (no user enumeration by timing).
 */
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword('vigil-dummy-password-for-constant-time-checks');
  return dummyHash;
}

/** Refuses passwords that are too short or too long (argon2 input is bounded to keep hashing cheap). */
export function assertPasswordPolicy(password: string, field = 'password'): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new BadUserInputError(`The password must have at least ${MIN_PASSWORD_LENGTH} characters`, field);
  }
  if (password.length > 256) throw new BadUserInputError('The password may have at most 256 characters', field);
  if (new Set(password).size < 5) throw new BadUserInputError('The password is too repetitive', field);
}

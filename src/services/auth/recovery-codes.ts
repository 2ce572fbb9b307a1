import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { EntityManager } from '../../infra/db';

/** How many recovery codes an account gets at a time. */
export const RECOVERY_CODE_COUNT = 10;

/** Unambiguous lowercase base32 (no 0/o, 1/l/i): what a person copies from paper. */
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** A code of 16 characters from a 31-letter alphabet (about 79 bits), shown as four groups of four. */
function newRecoveryCode(): string {
  const bytes = randomBytes(16);
  let code = '';
  for (let i = 0; i < 16; i++) {
    // 256 is not a multiple of 31: redraw the few values that would bias the first letters.
    let byte = bytes[i]!;
    while (byte >= 248) byte = randomBytes(1)[0]!;
    code += ALPHABET[byte % ALPHABET.length];
  }
  return code.match(/.{4}/g)!.join('-');
}

/** A code as typed: case, spaces and dashes do not matter. */
export function normalizeRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[\s-]/g, '');
}

/** Whether a sign-in code has the shape of a recovery code (rather than a six-digit TOTP code). */
export function looksLikeRecoveryCode(code: string): boolean {
  return /^[a-z0-9]{16}$/.test(normalizeRecoveryCode(code));
}

/**
 * How codes are stored: SHA-256 over the user id and the normalised code. The codes are random
 * (about 79 bits), so a slow hash adds nothing; the user id keeps equal codes of two accounts apart.
 */
function hashRecoveryCode(userId: string, code: string): string {
  return createHash('sha256').update(`${userId}:${normalizeRecoveryCode(code)}`, 'utf8').digest('hex');
}

/**
 * Single-use recovery codes that stand in for a TOTP code at sign-in when the device is lost.
 * Only their hashes are kept; the codes are shown once, when issued.
 */
export const recoveryCodes = {
  /** Issues {@link RECOVERY_CODE_COUNT} new codes inside the caller's transaction; the old ones die. */
  async replace(tx: EntityManager, userId: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    const connection = tx.getConnection();
    await connection.execute('delete from mfa_recovery_code where user_id = ?', [userId], 'all', tx.getTransactionContext());
    await connection.execute(
      `insert into mfa_recovery_code (id, user_id, code_hash) values ${codes.map(() => '(?, ?, ?)').join(', ')}`,
      codes.flatMap((code) => [randomUUID(), userId, hashRecoveryCode(userId, code)]),
      'all',
      tx.getTransactionContext(),
    );
    return codes;
  },

  /**
   * Uses up a code, atomically: of two requests with the same code only one succeeds.
   * @returns the codes left after it, or null when the code is unknown or was used.
   */
  async consume(em: EntityManager, userId: string, code: string): Promise<number | null> {
    const rows = await em.getConnection().execute<{ remaining: string }[]>(
      `with used as (
         update mfa_recovery_code set used_at = now()
          where user_id = ? and code_hash = ? and used_at is null
          returning id
       )
       select (select count(*) from mfa_recovery_code where user_id = ? and used_at is null) - (select count(*) from used) as remaining
        where exists (select 1 from used)`,
      [userId, hashRecoveryCode(userId, code), userId],
    );
    return rows.length ? Number(rows[0]!.remaining) : null;
  },

  /** Removes every code of an account inside the caller's transaction (second factor turned off or reset). */
  async clear(tx: EntityManager, userId: string): Promise<void> {
    await tx.getConnection().execute('delete from mfa_recovery_code where user_id = ?', [userId], 'all', tx.getTransactionContext());
  },
};

import { randomInt } from 'node:crypto';
import { tokenHash } from './tokens';

/**
 * Ten single-use recovery codes for a lost second factor: 16 characters of an unambiguous
 * alphabet (80 bits) in groups of four. Stored as SHA-256 only — at 80 bits a slow hash adds
 * nothing. Input is normalised (case, spaces, dashes) before hashing.
 */

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export const RECOVERY_CODE_COUNT = 10;

export function newRecoveryCodes(n = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: n }, () => {
    const chars = Array.from({ length: 16 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
    return chars.match(/.{4}/g)!.join('-');
  });
}

export const normaliseRecoveryCode = (code: string): string =>
  code.toUpperCase().replace(/[\s-]+/g, '');

export const recoveryCodeHash = (code: string): Buffer => tokenHash(normaliseRecoveryCode(code));

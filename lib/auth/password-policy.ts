import { dictionary } from '@zxcvbn-ts/language-common';

/**
 * New passwords (TOMs §3): at least 12 characters, and not a common password — checked against
 * the bundled list of zxcvbn-ts (≈49,000 leaked passwords), also with case, trailing digits and
 * punctuation stripped ("Password2024!" is "password"), and not built from the e-mail address.
 */

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 1024;

const COMMON = new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()));

export type PasswordProblem = 'too-short' | 'too-long' | 'common' | 'contains-email' | 'repetitive';

export function passwordProblem(password: string, email?: string): PasswordProblem | undefined {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return 'too-short';
  if (length > MAX_PASSWORD_LENGTH) return 'too-long';
  const lower = password.toLowerCase();
  const core = lower.replace(/[\d\W_]+$/u, '').replace(/^[\d\W_]+/u, '');
  if (COMMON.has(lower) || (core.length > 0 && COMMON.has(core))) return 'common';
  if (new Set(lower).size <= 3) return 'repetitive';
  const local = email?.split('@')[0]?.toLowerCase();
  if (local && local.length >= 4 && lower.includes(local)) return 'contains-email';
  return undefined;
}

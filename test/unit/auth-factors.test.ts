import { passwordProblem } from '../../lib/auth/password-policy';
import {
  newRecoveryCodes,
  normaliseRecoveryCode,
  recoveryCodeHash,
} from '../../lib/auth/recovery-codes';
import { newTotpSecret, totpCodeAt, verifyTotp, TOTP_PERIOD_S } from '../../lib/auth/totp';

describe('password policy', () => {
  it.each([
    ['short', 'kurz', 'too-short'],
    ['a leaked password', 'qwerty123456', 'common'],
    ['a leaked password with case and suffix', 'Password2024!!', 'common'],
    ['few distinct characters', 'aaaaaaaaaaaabbbb', 'repetitive'],
    ['the e-mail address inside', 'xx-inhaberin-2026-xx', 'contains-email'],
  ])('refuses %s', (_what, pw, problem) => {
    expect(passwordProblem(pw, 'inhaberin@kunde.example')).toBe(problem);
  });

  it('accepts a long passphrase, counting characters not bytes', () => {
    expect(passwordProblem('Korrekt Pferd Batterie Heftklammer', 'a@b.example')).toBeUndefined();
    expect(passwordProblem('äöüßäöüßäöü', undefined)).toBe('too-short');
  });
});

describe('TOTP (RFC 6238)', () => {
  // RFC 6238 appendix B, SHA-1 secret "12345678901234567890" at T = 59 s → 94287082 (8 digits);
  // its last six digits are what a 6-digit authenticator shows.
  const rfcSecret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
  it('matches the RFC test vector', () => {
    expect(totpCodeAt(rfcSecret, 59_000)).toBe('287082');
    expect(totpCodeAt(rfcSecret, 1_111_111_109_000)).toBe('081804');
  });

  it('accepts ±1 step, refuses older codes and every replay', () => {
    const secret = newTotpSecret();
    const now = 1_800_000_000_000;
    const step = Math.floor(now / 1000 / TOTP_PERIOD_S);
    const at = (k: number) => totpCodeAt(secret, now + k * TOTP_PERIOD_S * 1000);
    expect(verifyTotp(secret, at(0), null, now)).toBe(step);
    expect(verifyTotp(secret, at(-1), null, now)).toBe(step - 1);
    expect(verifyTotp(secret, at(1), null, now)).toBe(step + 1);
    expect(verifyTotp(secret, at(-2), null, now)).toBeUndefined();
    expect(verifyTotp(secret, at(0), step, now)).toBeUndefined();
    expect(verifyTotp(secret, at(-1), step, now)).toBeUndefined();
    expect(verifyTotp(secret, at(1), step, now)).toBe(step + 1);
    expect(verifyTotp(secret, 'abcdef', null, now)).toBeUndefined();
  });
});

describe('recovery codes', () => {
  it('are ten distinct 80-bit codes, hashed after normalising', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){3}$/);
    const c = codes[0]!;
    expect(normaliseRecoveryCode(` ${c.toLowerCase().replace(/-/g, ' ')} `)).toBe(
      c.replace(/-/g, ''),
    );
    expect(recoveryCodeHash(c.toLowerCase()).equals(recoveryCodeHash(c))).toBe(true);
    expect(recoveryCodeHash(codes[1]!).equals(recoveryCodeHash(c))).toBe(false);
  });
});

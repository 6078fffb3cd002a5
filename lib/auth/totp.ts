import { Secret, TOTP } from 'otpauth';

/**
 * RFC 6238 TOTP (SHA-1, 6 digits, 30 s — what every authenticator app speaks), accepting the
 * previous, current and next step. A code is usable once: the caller stores the accepted step and
 * passes it back as `lastStep`, and any code of that step or an earlier one is a replay.
 */

export const TOTP_PERIOD_S = 30;

export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totp(secretBase32: string, label = 'mailrepo'): TOTP {
  return new TOTP({
    issuer: 'mailrepo',
    label,
    algorithm: 'SHA1',
    digits: 6,
    period: TOTP_PERIOD_S,
    secret: Secret.fromBase32(secretBase32),
  });
}

/** The otpauth:// URI an authenticator app imports (shown as QR code and as text). */
export const totpUri = (secretBase32: string, account: string): string =>
  totp(secretBase32, account).toString();

/** The accepted time step, or undefined for a wrong, expired or replayed code. */
export function verifyTotp(
  secretBase32: string,
  code: string,
  lastStep: number | null,
  now = Date.now(),
): number | undefined {
  const token = code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(token)) return undefined;
  const delta = totp(secretBase32).validate({ token, timestamp: now, window: 1 });
  if (delta === null) return undefined;
  const step = Math.floor(now / 1000 / TOTP_PERIOD_S) + delta;
  if (lastStep !== null && step <= lastStep) return undefined;
  return step;
}

/** For tests and the browser test's "authenticator app". */
export const totpCodeAt = (secretBase32: string, at: number): string =>
  totp(secretBase32).generate({ timestamp: at });

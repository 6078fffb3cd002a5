import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import { argon2Gate } from './argon2-gate';
import { equalBytes, utf8, zeroize } from './bytes';
import { expand, extract } from './hkdf';
import { createHash } from 'node:crypto';

/**
 * Password → Argon2id → HKDF → (KEK, auth key). The KEK wraps the user's private key and never
 * leaves memory; the auth key proves the password at login, and only its SHA-256 is stored, so the
 * stored verifier reveals nothing about the KEK. Parameters are stored per user and upgraded at
 * the next login when the configured ones grow.
 */

export interface Argon2Params {
  /** Memory in KiB. */
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

/** DESIGN §4: m = 64 MiB, t = 3, p = 1. */
export const DEFAULT_ARGON2: Argon2Params = { memoryKiB: 64 * 1024, iterations: 3, parallelism: 1 };

export interface PasswordRecord {
  salt: Buffer;
  params: Argon2Params;
  /** SHA-256(auth key). */
  verifier: Buffer;
}

export interface PasswordKeys {
  kek: Buffer;
  authKey: Buffer;
}

export async function derivePasswordKeys(
  password: string,
  salt: Uint8Array,
  params: Argon2Params,
): Promise<PasswordKeys> {
  if (salt.length !== 16) throw new Error('password salt must be 16 bytes');
  const secret = utf8(password.normalize('NFC'));
  const master = await argon2Gate
    .run(() =>
      argon2.hash(secret, {
        type: argon2.argon2id,
        raw: true,
        salt: Buffer.from(salt),
        memoryCost: params.memoryKiB,
        timeCost: params.iterations,
        parallelism: params.parallelism,
        hashLength: 32,
      }),
    )
    .finally(() => zeroize(secret));
  const prk = extract(utf8('mailrepo/v1/password'), master);
  const keys = { kek: expand(prk, utf8('kek'), 32), authKey: expand(prk, utf8('auth'), 32) };
  zeroize(master, prk);
  return keys;
}

export const verifierOf = (authKey: Uint8Array): Buffer =>
  createHash('sha256').update(authKey).digest();

/** Derives keys for a new password with a fresh salt. */
export async function newPassword(
  password: string,
  params: Argon2Params = DEFAULT_ARGON2,
): Promise<{ record: PasswordRecord; keys: PasswordKeys }> {
  const salt = randomBytes(16);
  const keys = await derivePasswordKeys(password, salt, params);
  return { record: { salt, params, verifier: verifierOf(keys.authKey) }, keys };
}

/** Keys for `password` if it matches `record` (constant-time), otherwise null. */
export async function checkPassword(
  password: string,
  record: PasswordRecord,
): Promise<PasswordKeys | null> {
  const keys = await derivePasswordKeys(password, record.salt, record.params);
  if (equalBytes(verifierOf(keys.authKey), record.verifier)) return keys;
  zeroize(keys.kek, keys.authKey);
  return null;
}

/** True when the configured parameters are stronger than the stored ones in any dimension. */
export function needsUpgrade(stored: Argon2Params, configured: Argon2Params): boolean {
  return (
    configured.memoryKiB > stored.memoryKiB ||
    configured.iterations > stored.iterations ||
    configured.parallelism > stored.parallelism
  );
}

import {
  createHash,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { equalBytes } from '../crypto/bytes';

/**
 * C2SP signed notes with Ed25519 keys, carrying C2SP tlog-checkpoint bodies:
 *
 *   <origin>\n<tree size>\n<base64 root hash>\n
 *   \n
 *   — <key name> <base64(key hash (4) ‖ Ed25519 signature (64))>\n
 *
 * key hash = SHA-256(key name ‖ "\n" ‖ 0x01 ‖ public key)[:4]; a verifier key is written
 * `<name>+<hex key hash>+<base64(0x01 ‖ public key)>`.
 */

export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
}

export interface NoteKey {
  name: string;
  publicKey: Buffer;
}

export class NoteError extends Error {
  override name = 'NoteError';
}

const ED25519 = 0x01;
const DASH = '\u2014';

const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * An Ed25519 key: a random 32-byte seed (RFC 8032) and its public key. Not generateKeyPairSync,
 * for the Node 20 deadlock described at x25519.generateKeyPair.
 */
export function generateSigningKey(): { publicKey: Buffer; privateKey: Buffer } {
  const privateKey = randomBytes(32);
  const key = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, privateKey]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x!, 'base64url');
  return { publicKey, privateKey };
}

/** A raw 32-byte Ed25519 public key as a KeyObject (for verifying, or exporting as PEM). */
export function ed25519PublicKey(raw: Uint8Array): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') },
    format: 'jwk',
  });
}

export function keyHash(name: string, publicKey: Uint8Array): Buffer {
  return createHash('sha256')
    .update(`${name}\n`)
    .update(Buffer.from([ED25519]))
    .update(publicKey)
    .digest()
    .subarray(0, 4);
}

export function verifierKey(k: NoteKey): string {
  return `${k.name}+${keyHash(k.name, k.publicKey).toString('hex')}+${Buffer.concat([Buffer.from([ED25519]), k.publicKey]).toString('base64')}`;
}

export function parseVerifierKey(vkey: string): NoteKey {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(vkey.trim());
  if (!m) throw new NoteError('verifier key is malformed');
  const raw = Buffer.from(m[3]!, 'base64');
  if (raw.length !== 33 || raw[0] !== ED25519)
    throw new NoteError('verifier key is not an Ed25519 key');
  const key = { name: m[1]!, publicKey: raw.subarray(1) };
  if (keyHash(key.name, key.publicKey).toString('hex') !== m[2])
    throw new NoteError('verifier key hash does not match');
  return key;
}

const ORIGIN = /^[^\s\u2014][^\n]*$/;

export function checkpointBody(c: Checkpoint): string {
  if (!ORIGIN.test(c.origin)) throw new NoteError('origin must be one non-empty line');
  return `${c.origin}\n${c.size}\n${c.root.toString('base64')}\n`;
}

export function signCheckpoint(
  c: Checkpoint,
  name: string,
  privateKey: Uint8Array,
  publicKey: Uint8Array,
): string {
  const body = checkpointBody(c);
  const key = createPrivateKey({
    key: {
      kty: 'OKP',
      crv: 'Ed25519',
      d: Buffer.from(privateKey).toString('base64url'),
      x: Buffer.from(publicKey).toString('base64url'),
    },
    format: 'jwk',
  });
  const sig = sign(null, Buffer.from(body), key);
  return `${body}\n${DASH} ${name} ${Buffer.concat([keyHash(name, publicKey), sig]).toString('base64')}\n`;
}

/** Verifies `note` with `key` and returns the checkpoint it carries; throws NoteError naming the step. */
export function openCheckpoint(note: string, key: NoteKey): Checkpoint {
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new NoteError('note has no signature block');
  const body = note.slice(0, split + 1);
  const sigLines = note.slice(split + 2, -1).split('\n');
  const wanted = keyHash(key.name, key.publicKey);
  const pub = ed25519PublicKey(key.publicKey);
  let verified = false;
  for (const line of sigLines) {
    const m = new RegExp(`^${DASH} (\\S+) ([A-Za-z0-9+/=]+)$`).exec(line);
    if (!m) throw new NoteError('malformed signature line');
    if (m[1] !== key.name) continue;
    const raw = Buffer.from(m[2]!, 'base64');
    if (raw.length !== 68 || !equalBytes(raw.subarray(0, 4), wanted)) continue;
    if (!verify(null, Buffer.from(body), pub, raw.subarray(4)))
      throw new NoteError(`signature by ${key.name} is invalid`);
    verified = true;
  }
  if (!verified) throw new NoteError(`checkpoint is not signed by ${key.name}`);
  const lines = body.split('\n');
  if (lines.length < 4 || !/^(0|[1-9][0-9]*)$/.test(lines[1]!))
    throw new NoteError('checkpoint body is malformed');
  const root = Buffer.from(lines[2]!, 'base64');
  if (root.length !== 32 || root.toString('base64') !== lines[2])
    throw new NoteError('checkpoint root hash is malformed');
  return { origin: lines[0]!, size: Number(lines[1]), root };
}

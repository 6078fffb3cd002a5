import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { CryptoError } from './errors';

/**
 * Raw 32-byte X25519 keys, on node:crypto (OpenSSL).
 *
 * Keys are imported as JWK, not PKCS#8/SPKI DER: OpenSSL 3's DER decoder costs ~800 µs per private
 * key, JWK ~60 µs, which decides HPKE throughput. Node builds a JWK private key from `d` alone, so
 * `x` gets a placeholder and the real public key is derived from the key object; should a Node
 * version start validating `x`, the DER path takes over (the RFC 9180 vectors test both ways).
 */

const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const PLACEHOLDER_X = Buffer.alloc(32).toString('base64url');
let jwkPrivateImport = true;

export interface KeyPair {
  publicKey: Buffer;
  privateKey: Buffer;
  /** The private key imported once, for a key that opens many blobs (an epoch's). */
  privateKeyObject?: KeyObject;
}

export function privateKeyObject(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new CryptoError('invalid-key');
  if (jwkPrivateImport) {
    try {
      const d = Buffer.from(raw).toString('base64url');
      return createPrivateKey({
        key: { kty: 'OKP', crv: 'X25519', d, x: PLACEHOLDER_X },
        format: 'jwk',
      });
    } catch {
      jwkPrivateImport = false;
    }
  }
  return createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, raw]),
    format: 'der',
    type: 'pkcs8',
  });
}

/**
 * Recipients' public keys imported lately: every mail of an epoch is sealed to the same one.
 * Public keys only (nothing secret is kept); a bounded map, emptied when full.
 */
const recentPublicKeys = new Map<string, KeyObject>();
const RECENT_PUBLIC_KEYS = 256;

export function publicKeyObject(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new CryptoError('invalid-key');
  return createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(raw).toString('base64url') },
    format: 'jwk',
  });
}

/** publicKeyObject for a recipient's key, kept for the next mail sealed to it. */
export function recipientKeyObject(raw: Uint8Array): KeyObject {
  const x = Buffer.from(raw).toString('base64url');
  let key = recentPublicKeys.get(x);
  if (!key) {
    key = publicKeyObject(raw);
    if (recentPublicKeys.size >= RECENT_PUBLIC_KEYS) recentPublicKeys.clear();
    recentPublicKeys.set(x, key);
  }
  return key;
}

const rawOf = (k: KeyObject, part: 'x' | 'd'): Buffer =>
  Buffer.from(k.export({ format: 'jwk' })[part] as string, 'base64url');

/**
 * A fresh key pair: 32 random bytes are an X25519 private key (RFC 7748 clamps them in the scalar
 * multiplication), the public key is derived. Not generateKeyPairSync: on Node 20, exporting a key
 * while the garbage collector finalises that key's generation job deadlocks the process (the job's
 * destructor takes the lock the export holds; seen as a hung search benchmark, gdb:
 * ExportJWKEdKey → GC → ~KeyGenJob → mutex). Deriving from random bytes has no generation job.
 */
export function generateKeyPair(): KeyPair {
  const privateKey = randomBytes(32);
  // Imported once: the caller's DH uses the same key object (an import costs as much as the DH).
  const privateKeyObj = privateKeyObject(privateKey);
  return {
    publicKey: rawOf(createPublicKey(privateKeyObj), 'x'),
    privateKey,
    privateKeyObject: privateKeyObj,
  };
}

export function publicFromPrivate(privateKey: Uint8Array): Buffer {
  return rawOf(createPublicKey(privateKeyObject(privateKey)), 'x');
}

/** X25519(sk, pk); rejects the all-zero output of a low-order public key (RFC 7748 §6.1). */
export function dh(privateKey: Uint8Array | KeyObject, publicKey: Uint8Array | KeyObject): Buffer {
  const shared = diffieHellman({
    privateKey: privateKey instanceof Uint8Array ? privateKeyObject(privateKey) : privateKey,
    publicKey: publicKey instanceof Uint8Array ? publicKeyObject(publicKey) : publicKey,
  });
  if (shared.every((b) => b === 0)) throw new CryptoError('invalid-key');
  return shared;
}

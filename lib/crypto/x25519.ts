import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { CryptoError } from './errors';

/** Raw 32-byte X25519 keys, on node:crypto (OpenSSL). */

// DER prefixes of PKCS#8 / SPKI for id-X25519 (RFC 8410): the raw key follows.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

export interface KeyPair {
  publicKey: Buffer;
  privateKey: Buffer;
}

export function privateKeyObject(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new CryptoError('invalid-key');
  return createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, raw]),
    format: 'der',
    type: 'pkcs8',
  });
}

export function publicKeyObject(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new CryptoError('invalid-key');
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

const rawPublic = (k: KeyObject): Buffer =>
  k.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
const rawPrivate = (k: KeyObject): Buffer =>
  k.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length);

export function generateKeyPair(): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return {
    publicKey: Buffer.from(rawPublic(publicKey)),
    privateKey: Buffer.from(rawPrivate(privateKey)),
  };
}

export function publicFromPrivate(privateKey: Uint8Array): Buffer {
  return Buffer.from(rawPublic(createPublicKey(privateKeyObject(privateKey))));
}

/** X25519(sk, pk); rejects the all-zero output of a low-order public key (RFC 7748 §6.1). */
export function dh(privateKey: Uint8Array, publicKey: Uint8Array): Buffer {
  const shared = diffieHellman({
    privateKey: privateKeyObject(privateKey),
    publicKey: publicKeyObject(publicKey),
  });
  if (shared.every((b) => b === 0)) throw new CryptoError('invalid-key');
  return shared;
}

import type { KeyPair } from './x25519';
import { randomBytes } from 'node:crypto';
import * as aead from './aead';
import { bindingBytes, type Binding } from './context';
import { expectHeader, header, Suite } from './format';
import * as hpke from './hpke';

/**
 * Small secrets (DEKs, private keys, index keys) sealed to a public key with HPKE, or wrapped under
 * a symmetric key (KEK). Layouts (docs/crypto.md):
 *   sealed:  01 01 | enc (32) | AES-256-GCM ciphertext ‖ tag (16)     info = binding, aad = 01 01
 *   wrapped: 01 02 | nonce (12) | AES-256-GCM ciphertext ‖ tag (16)   aad = 01 02 ‖ binding
 */

const ENC_LEN = 32;

export function sealTo(recipientPublic: Uint8Array, binding: Binding, secret: Uint8Array): Buffer {
  const h = header(Suite.HpkeX25519Aes256Gcm);
  const { enc, ciphertext } = hpke.seal(recipientPublic, bindingBytes(binding), h, secret);
  return Buffer.concat([h, enc, ciphertext]);
}

export function openSealed(
  recipientPrivate: Uint8Array,
  binding: Binding,
  blob: Uint8Array,
  /** The recipient's public key (known to match) and imported private key, if at hand. */
  known?: Partial<Pick<KeyPair, 'publicKey' | 'privateKeyObject'>>,
): Buffer {
  expectHeader(blob, Suite.HpkeX25519Aes256Gcm, 2 + ENC_LEN + aead.TAG_LEN);
  const enc = blob.subarray(2, 2 + ENC_LEN);
  return hpke.open(
    recipientPrivate,
    enc,
    bindingBytes(binding),
    blob.subarray(0, 2),
    blob.subarray(2 + ENC_LEN),
    known,
  );
}

export function wrap(kek: Uint8Array, binding: Binding, secret: Uint8Array): Buffer {
  const h = header(Suite.WrapAes256Gcm);
  const nonce = randomBytes(aead.NONCE_LEN);
  return Buffer.concat([
    h,
    nonce,
    aead.seal(kek, nonce, Buffer.concat([h, bindingBytes(binding)]), secret),
  ]);
}

export function unwrap(kek: Uint8Array, binding: Binding, blob: Uint8Array): Buffer {
  expectHeader(blob, Suite.WrapAes256Gcm, 2 + aead.NONCE_LEN + aead.TAG_LEN);
  const nonce = blob.subarray(2, 2 + aead.NONCE_LEN);
  return aead.open(
    kek,
    nonce,
    Buffer.concat([blob.subarray(0, 2), bindingBytes(binding)]),
    blob.subarray(2 + aead.NONCE_LEN),
  );
}

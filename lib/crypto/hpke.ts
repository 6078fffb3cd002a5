import * as aead from './aead';
import { i2osp, utf8, zeroize } from './bytes';
import { expand, extract, HASH_LEN } from './hkdf';
import { dh, generateKeyPair, publicFromPrivate, recipientKeyObject, type KeyPair } from './x25519';

/**
 * HPKE (RFC 9180), base mode, DHKEM(X25519, HKDF-SHA256) + HKDF-SHA256 + AES-GCM, on node:crypto.
 * Our suite is AES-256-GCM (aead id 2); AES-128-GCM (id 1) is kept only so the RFC vectors for it
 * exercise the same code. See docs/decisions/0004-hpke-on-node-crypto.md.
 */

const KEM_ID = 0x0020;
const KDF_ID = 0x0001;
export const AEAD_AES128GCM = 0x0001;
export const AEAD_AES256GCM = 0x0002;
const MODE_BASE = 0x00;
const N_SECRET = 32;
const N_SK = 32;

const V1 = utf8('HPKE-v1');
const KEM_SUITE = Buffer.concat([utf8('KEM'), i2osp(KEM_ID, 2)]);
const hpkeSuite = (aeadId: number) =>
  Buffer.concat([utf8('HPKE'), i2osp(KEM_ID, 2), i2osp(KDF_ID, 2), i2osp(aeadId, 2)]);

function labeledExtract(suite: Buffer, salt: Uint8Array, label: string, ikm: Uint8Array): Buffer {
  return extract(salt, Buffer.concat([V1, suite, utf8(label), ikm]));
}

function labeledExpand(
  suite: Buffer,
  prk: Uint8Array,
  label: string,
  info: Uint8Array,
  length: number,
): Buffer {
  return expand(prk, Buffer.concat([i2osp(length, 2), V1, suite, utf8(label), info]), length);
}

/** DeriveKeyPair for DHKEM(X25519) (RFC 9180 §7.1.3): a key pair from input keying material. */
export function deriveKeyPair(ikm: Uint8Array): KeyPair {
  const prk = labeledExtract(KEM_SUITE, Buffer.alloc(0), 'dkp_prk', ikm);
  const privateKey = labeledExpand(KEM_SUITE, prk, 'sk', Buffer.alloc(0), N_SK);
  zeroize(prk);
  return { privateKey, publicKey: publicFromPrivate(privateKey) };
}

function extractAndExpand(dhOut: Uint8Array, kemContext: Uint8Array): Buffer {
  const prk = labeledExtract(KEM_SUITE, Buffer.alloc(0), 'eae_prk', dhOut);
  const secret = labeledExpand(KEM_SUITE, prk, 'shared_secret', kemContext, N_SECRET);
  zeroize(prk);
  return secret;
}

function encap(
  recipientPublic: Uint8Array,
  ephemeral: KeyPair,
): { sharedSecret: Buffer; enc: Buffer } {
  const dhOut = dh(
    ephemeral.privateKeyObject ?? ephemeral.privateKey,
    recipientKeyObject(recipientPublic),
  );
  const enc = Buffer.from(ephemeral.publicKey);
  const sharedSecret = extractAndExpand(dhOut, Buffer.concat([enc, recipientPublic]));
  zeroize(dhOut);
  return { sharedSecret, enc };
}

function decap(enc: Uint8Array, recipient: KeyPair): Buffer {
  const dhOut = dh(recipient.privateKeyObject ?? recipient.privateKey, enc);
  const sharedSecret = extractAndExpand(dhOut, Buffer.concat([enc, recipient.publicKey]));
  zeroize(dhOut);
  return sharedSecret;
}

/** An HPKE encryption context (RFC 9180 §5.2): sequence-numbered nonces and the exporter. */
export class Context {
  private seq = 0;
  constructor(
    private readonly aeadId: number,
    private readonly key: Buffer,
    private readonly baseNonce: Buffer,
    private readonly exporterSecret: Buffer,
  ) {}

  private nonce(): Buffer {
    const n = i2osp(this.seq, aead.NONCE_LEN);
    for (let i = 0; i < n.length; i++) n[i]! ^= this.baseNonce[i]!;
    return n;
  }

  seal(aad: Uint8Array, plaintext: Uint8Array): Buffer {
    const ct = aead.seal(this.key, this.nonce(), aad, plaintext);
    this.seq++;
    return ct;
  }

  open(aad: Uint8Array, ciphertext: Uint8Array): Buffer {
    const pt = aead.open(this.key, this.nonce(), aad, ciphertext);
    this.seq++;
    return pt;
  }

  export(exporterContext: Uint8Array, length: number): Buffer {
    return labeledExpand(
      hpkeSuite(this.aeadId),
      this.exporterSecret,
      'sec',
      exporterContext,
      length,
    );
  }

  destroy(): void {
    zeroize(this.key, this.baseNonce, this.exporterSecret);
  }
}

function keySchedule(aeadId: number, sharedSecret: Uint8Array, info: Uint8Array): Context {
  const suite = hpkeSuite(aeadId);
  const nk = aeadId === AEAD_AES128GCM ? 16 : 32;
  const empty = Buffer.alloc(0);
  const pskIdHash = labeledExtract(suite, empty, 'psk_id_hash', empty);
  const infoHash = labeledExtract(suite, empty, 'info_hash', info);
  const ksc = Buffer.concat([Buffer.from([MODE_BASE]), pskIdHash, infoHash]);
  const secret = labeledExtract(suite, sharedSecret, 'secret', empty);
  const ctx = new Context(
    aeadId,
    labeledExpand(suite, secret, 'key', ksc, nk),
    labeledExpand(suite, secret, 'base_nonce', ksc, aead.NONCE_LEN),
    labeledExpand(suite, secret, 'exp', ksc, HASH_LEN),
  );
  zeroize(secret);
  return ctx;
}

/** SetupBaseS. `ephemeral` exists for the RFC test vectors only; normally it is fresh and random. */
export function setupSender(
  recipientPublic: Uint8Array,
  info: Uint8Array,
  opts: { aeadId?: number; ephemeral?: KeyPair } = {},
): { enc: Buffer; context: Context } {
  const ephemeral = opts.ephemeral ?? generateKeyPair();
  const { sharedSecret, enc } = encap(recipientPublic, ephemeral);
  if (!opts.ephemeral) zeroize(ephemeral.privateKey);
  const context = keySchedule(opts.aeadId ?? AEAD_AES256GCM, sharedSecret, info);
  zeroize(sharedSecret);
  return { enc, context };
}

/** SetupBaseR. */
export function setupRecipient(
  enc: Uint8Array,
  recipient: KeyPair,
  info: Uint8Array,
  aeadId = AEAD_AES256GCM,
): Context {
  const sharedSecret = decap(enc, recipient);
  const context = keySchedule(aeadId, sharedSecret, info);
  zeroize(sharedSecret);
  return context;
}

/** Single-shot Seal (RFC 9180 §6.1) in our suite. */
export function seal(
  recipientPublic: Uint8Array,
  info: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
): { enc: Buffer; ciphertext: Buffer } {
  const { enc, context } = setupSender(recipientPublic, info);
  const ciphertext = context.seal(aad, plaintext);
  context.destroy();
  return { enc, ciphertext };
}

/** Single-shot Open; `recipientPrivate` is the raw X25519 private key. */
export function open(
  recipientPrivate: Uint8Array,
  enc: Uint8Array,
  info: Uint8Array,
  aad: Uint8Array,
  ciphertext: Uint8Array,
  /** The recipient's public key and imported private key, when the caller has them. */
  known: Partial<Pick<KeyPair, 'publicKey' | 'privateKeyObject'>> = {},
): Buffer {
  const recipient: KeyPair = {
    privateKey: Buffer.from(recipientPrivate),
    publicKey: known.publicKey ?? publicFromPrivate(recipientPrivate),
    privateKeyObject: known.privateKeyObject,
  };
  const context = setupRecipient(enc, recipient, info);
  try {
    return context.open(aad, ciphertext);
  } finally {
    context.destroy();
    zeroize(recipient.privateKey);
  }
}

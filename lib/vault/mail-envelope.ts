import { randomBytes } from 'node:crypto';
import { zeroize } from '../crypto/bytes';
import { openSealed, sealTo } from '../crypto/sealed-box';
import { decryptBuffer, DecryptStream, encryptBuffer, EncryptStream } from '../crypto/stream';
import { bind } from '../crypto/bindings';
import type { EpochPublicKey, UnlockedEpoch } from './epochs';

/**
 * Per-mail encryption as ingest does it: a random DEK, sealed to the epoch public key (so ingest
 * needs no private key), and the body as a stream under that DEK. The DEK is zeroed as soon as the
 * stream has derived its segment key.
 */
export function encryptMail(
  epoch: EpochPublicKey,
  tenantId: string,
  messageId: string,
): { sealedDek: Buffer; body: EncryptStream } {
  const e = beginMailEncryption(epoch, tenantId, messageId);
  e.dispose();
  return { sealedDek: e.sealedDek, body: e.body };
}

/** `mail-extracted`: attachment text the index job read (issue 20), added after ingest. */
export type MailPart = 'mail-metadata' | 'mail-tokens' | 'mail-extracted';

export interface MailKeying {
  /** The DEK sealed to the epoch. */
  sealedDek: Buffer;
  /** Encrypts a part (metadata, token list) under the same DEK; only before dispose(). */
  encryptPart(part: MailPart, plaintext: Uint8Array): Promise<Buffer>;
}

export interface MailEncryption extends MailKeying {
  body: EncryptStream;
  /**
   * The DEK sealed to another epoch instead — the epoch of the mail's retention class, known only
   * once it is parsed; the body stays bound to the epoch it was begun with (`body_epoch_id`).
   */
  sealFor(epoch: EpochPublicKey): MailKeying;
  /** Zeroes the DEK; call once the parts are encrypted (the body stream keeps its own key). */
  dispose(): void;
}

/** As encryptMail, keeping the DEK until the mail's metadata and tokens are encrypted too. */
export function beginMailEncryption(
  epoch: EpochPublicKey,
  tenantId: string,
  messageId: string,
): MailEncryption {
  const dek = randomBytes(32);
  const sealedDek = sealTo(epoch.publicKey, bind.mailDek(tenantId, epoch.epochId, messageId), dek);
  const body = new EncryptStream(dek, bind.mailBody(tenantId, epoch.epochId, messageId));
  let disposed = false;
  const encryptPartFor =
    (epochId: string) =>
    (part: MailPart, plaintext: Uint8Array): Promise<Buffer> => {
      if (disposed) throw new Error('the mail key was already disposed');
      return encryptBuffer(dek, bind.mailPart(tenantId, epochId, messageId, part), plaintext);
    };
  return {
    sealedDek,
    body,
    encryptPart: encryptPartFor(epoch.epochId),
    sealFor: (other) => {
      if (disposed) throw new Error('the mail key was already disposed');
      return {
        sealedDek: sealTo(other.publicKey, bind.mailDek(tenantId, other.epochId, messageId), dek),
        encryptPart: encryptPartFor(other.epochId),
      };
    },
    dispose: () => {
      disposed = true;
      zeroize(dek);
    },
  };
}

/** Decrypts a mail's metadata or token list; needs the unlocked epoch. */
export async function decryptMailPart(
  epoch: UnlockedEpoch,
  tenantId: string,
  messageId: string,
  sealedDek: Uint8Array,
  part: MailPart,
  blob: Uint8Array,
): Promise<Buffer> {
  return (await decryptMailParts(epoch, tenantId, messageId, sealedDek, [[part, blob]]))[0]!;
}

/** Runs `fn` with the mail's DEK, opened with the epoch key and zeroed afterwards. */
async function withDek<T>(
  epoch: UnlockedEpoch,
  tenantId: string,
  messageId: string,
  sealedDek: Uint8Array,
  fn: (dek: Buffer) => Promise<T>,
): Promise<T> {
  const dek = openSealed(
    epoch.privateKey,
    bind.mailDek(tenantId, epoch.epochId, messageId),
    sealedDek,
    epoch.known,
  );
  try {
    return await fn(dek);
  } finally {
    zeroize(dek);
  }
}

/** Several parts of one mail, its DEK opened once (the HPKE open is most of the cost). */
export function decryptMailParts(
  epoch: UnlockedEpoch,
  tenantId: string,
  messageId: string,
  sealedDek: Uint8Array,
  parts: [MailPart, Uint8Array][],
): Promise<Buffer[]> {
  return withDek(epoch, tenantId, messageId, sealedDek, (dek) =>
    Promise.all(
      parts.map(([part, blob]) =>
        decryptBuffer(dek, bind.mailPart(tenantId, epoch.epochId, messageId, part), blob),
      ),
    ),
  );
}

/** Encrypts a part under the mail's DEK after ingest (attachment text); needs the unlocked epoch. */
export function encryptMailPart(
  epoch: UnlockedEpoch,
  tenantId: string,
  messageId: string,
  sealedDek: Uint8Array,
  part: MailPart,
  plaintext: Uint8Array,
): Promise<Buffer> {
  return withDek(epoch, tenantId, messageId, sealedDek, (dek) =>
    encryptBuffer(dek, bind.mailPart(tenantId, epoch.epochId, messageId, part), plaintext),
  );
}

/**
 * The decrypting stream for one mail; needs the unlocked epoch (so an unlocked session).
 * `bodyEpochId`: the epoch the body was bound to, when not the DEK's (see sealFor).
 */
export function decryptMail(
  epoch: UnlockedEpoch,
  tenantId: string,
  messageId: string,
  sealedDek: Uint8Array,
  bodyEpochId: string = epoch.epochId,
): DecryptStream {
  const dek = openSealed(
    epoch.privateKey,
    bind.mailDek(tenantId, epoch.epochId, messageId),
    sealedDek,
    epoch.known,
  );
  const stream = new DecryptStream(dek, bind.mailBody(tenantId, bodyEpochId, messageId));
  // DecryptStream derives its key from the header, so it keeps the DEK until the first bytes come.
  stream.once('close', () => zeroize(dek));
  return stream;
}

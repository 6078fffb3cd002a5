import { randomBytes } from 'node:crypto';
import { zeroize } from '../crypto/bytes';
import { openSealed, sealTo } from '../crypto/sealed-box';
import { DecryptStream, EncryptStream } from '../crypto/stream';
import { bind } from './bindings';
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
  const dek = randomBytes(32);
  const sealedDek = sealTo(epoch.publicKey, bind.mailDek(tenantId, epoch.epochId, messageId), dek);
  const body = new EncryptStream(dek, bind.mailBody(tenantId, epoch.epochId, messageId));
  zeroize(dek);
  return { sealedDek, body };
}

/** The decrypting stream for one mail; needs the unlocked epoch (so an unlocked session). */
export function decryptMail(
  epoch: UnlockedEpoch,
  tenantId: string,
  messageId: string,
  sealedDek: Uint8Array,
): DecryptStream {
  const dek = openSealed(
    epoch.privateKey,
    bind.mailDek(tenantId, epoch.epochId, messageId),
    sealedDek,
  );
  const stream = new DecryptStream(dek, bind.mailBody(tenantId, epoch.epochId, messageId));
  // DecryptStream derives its key from the header, so it keeps the DEK until the first bytes come.
  stream.once('close', () => zeroize(dek));
  return stream;
}

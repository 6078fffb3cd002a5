import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/**
 * Encrypts every Temporal payload (inputs, results, heartbeat details, memo, encoded failure
 * attributes) with AES-256-GCM before it leaves the process, so Temporal's store never holds
 * readable data. The key id travels in the payload metadata; the first key encrypts and all keys
 * decrypt, which lets operators rotate keys without losing old histories.
 */

export const ENCODING = 'binary/encrypted';
const METADATA_ENCODING = 'encoding';
const METADATA_KEY_ID = 'encryption-key-id';
const FORMAT = 'mailrepo/temporal-payload/v1';

export interface CodecKey {
  id: string;
  key: Buffer;
}

/** Parses `id:base64,id2:base64`; every key must be exactly 32 bytes and ids unique. */
export function parseCodecKeys(spec: string): CodecKey[] {
  const keys = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const sep = entry.indexOf(':');
      const id = entry.slice(0, sep);
      const key = Buffer.from(entry.slice(sep + 1), 'base64');
      if (sep < 1 || !/^[\w.-]+$/.test(id))
        throw new Error('codec key entries must look like id:base64');
      if (key.length !== 32) throw new Error(`codec key ${id} must be 32 bytes, got ${key.length}`);
      return { id, key };
    });
  if (!keys.length) throw new Error('at least one codec key is required');
  if (new Set(keys.map((k) => k.id)).size !== keys.length)
    throw new Error('codec key ids must be unique');
  return keys;
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array | null | undefined): string => (b ? new TextDecoder().decode(b) : '');

export class EncryptionCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  private readonly active: CodecKey;

  constructor(keys: CodecKey[]) {
    if (!keys[0]) throw new Error('at least one codec key is required');
    this.active = keys[0];
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      const plain = temporal.api.common.v1.Payload.encode(p).finish();
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', this.active.key, iv);
      cipher.setAAD(Buffer.from(`${FORMAT}|${this.active.id}`));
      const body = Buffer.concat([cipher.update(plain), cipher.final()]);
      return {
        metadata: { [METADATA_ENCODING]: utf8(ENCODING), [METADATA_KEY_ID]: utf8(this.active.id) },
        data: Buffer.concat([iv, body, cipher.getAuthTag()]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (str(p.metadata?.[METADATA_ENCODING]) !== ENCODING) return p;
      const id = str(p.metadata?.[METADATA_KEY_ID]);
      const key = this.byId.get(id);
      if (!key)
        throw new Error(`no codec key with id ${JSON.stringify(id)}; cannot decrypt payload`);
      const data = Buffer.from(p.data ?? new Uint8Array());
      if (data.length < 28) throw new Error('encrypted payload is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
      decipher.setAAD(Buffer.from(`${FORMAT}|${id}`));
      decipher.setAuthTag(data.subarray(data.length - 16));
      const plain = Buffer.concat([
        decipher.update(data.subarray(12, data.length - 16)),
        decipher.final(),
      ]);
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}

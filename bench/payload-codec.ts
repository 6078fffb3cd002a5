import { randomBytes } from 'node:crypto';
import { EncryptionCodec, parseCodecKeys } from '../lib/temporal/codec';
import { fmt, opsPerSecond } from './measure';

/** Throughput of the Temporal payload codec for typical payload sizes. */
export async function benchPayloadCodec(): Promise<void> {
  const codec = new EncryptionCodec(parseCodecKeys(`b:${randomBytes(32).toString('base64')}`));
  for (const size of [256, 4096, 65536]) {
    const payload = { metadata: { encoding: Buffer.from('json/plain') }, data: randomBytes(size) };
    const [enc] = await codec.encode([payload]);
    const e = await opsPerSecond(() => codec.encode([payload]));
    const d = await opsPerSecond(() => codec.decode([enc!]));
    console.log(
      `payload codec ${String(size).padStart(6)} B: encode ${fmt(e)}/s, decode ${fmt(d)}/s`,
    );
  }
}

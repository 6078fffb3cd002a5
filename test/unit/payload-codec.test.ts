import { randomBytes } from 'node:crypto';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import {
  encodeErrorToFailure,
  encodeFailure,
  loadDataConverter,
} from '@temporalio/common/lib/internal-non-workflow';
import { temporal } from '@temporalio/proto';
import { EncryptionCodec, ENCODING, parseCodecKeys } from '../../lib/temporal/codec';
import { dataConverter } from '../../lib/temporal/data-converter';

const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

describe('EncryptionCodec', () => {
  const secret = { mailSubject: 'Vertraulich: Übernahme', dek: 'AAAA' };
  const payload = defaultPayloadConverter.toPayload(secret);

  it('round-trips and leaves no plaintext in the encoded payload', async () => {
    const codec = new EncryptionCodec(parseCodecKeys(key('k1')));
    const [enc] = await codec.encode([payload]);
    expect(Buffer.from(enc!.metadata!.encoding!).toString()).toBe(ENCODING);
    expect(Buffer.from(enc!.metadata!['encryption-key-id']!).toString()).toBe('k1');
    expect(Buffer.from(enc!.data!).includes(Buffer.from('Übernahme'))).toBe(false);
    const [dec] = await codec.decode([enc!]);
    expect(defaultPayloadConverter.fromPayload(dec!)).toEqual(secret);
  });

  it('rotates: new key encrypts, old key still decrypts old payloads', async () => {
    const old = key('2025');
    const [enc] = await new EncryptionCodec(parseCodecKeys(old)).encode([payload]);
    const rotated = new EncryptionCodec(parseCodecKeys(`${key('2026')},${old}`));
    const [reenc] = await rotated.encode([payload]);
    expect(Buffer.from(reenc!.metadata!['encryption-key-id']!).toString()).toBe('2026');
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([enc!]))[0]!)).toEqual(secret);
  });

  it('fails on an unknown key id and on a tampered payload', async () => {
    const [enc] = await new EncryptionCodec(parseCodecKeys(key('a'))).encode([payload]);
    await expect(new EncryptionCodec(parseCodecKeys(key('b'))).decode([enc!])).rejects.toThrow(
      /no codec key with id "a"/,
    );
    const codec = new EncryptionCodec(parseCodecKeys(key('a')));
    const [mine] = await codec.encode([payload]);
    const data = Buffer.from(mine!.data!);
    data[20]! ^= 1;
    await expect(codec.decode([{ ...mine!, data }])).rejects.toThrow();
  });

  it('rejects malformed key configuration', () => {
    expect(() => parseCodecKeys('nokey')).toThrow();
    expect(() => parseCodecKeys(`k:${Buffer.alloc(16).toString('base64')}`)).toThrow(/32 bytes/);
    expect(() => parseCodecKeys(`${key('x')},${key('x')}`)).toThrow(/unique/);
  });

  it('encodes failure messages and stack traces through the codec', async () => {
    const loaded = loadDataConverter(dataConverter(key('f')));
    const failure = await encodeFailure(
      loaded.payloadCodecs,
      await encodeErrorToFailure(
        loaded,
        ApplicationFailure.nonRetryable('could not parse mail from ceo@example.de'),
      ),
    );
    const bytes = Buffer.from(temporal.api.failure.v1.Failure.encode(failure).finish());
    expect(failure.message).toBe('Encoded failure');
    expect(bytes.includes(Buffer.from('ceo@example.de'))).toBe(false);
    expect(Buffer.from(failure.encodedAttributes!.metadata!.encoding!).toString()).toBe(ENCODING);
  });
});

import { createCipheriv, generateKeyPairSync, randomBytes } from 'node:crypto';
import { figure } from './report';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import * as hpke from '../lib/crypto/hpke';
import { DEFAULT_ARGON2, newPassword, checkPassword } from '../lib/crypto/password';
import { DecryptStream, EncryptStream, SEGMENT } from '../lib/crypto/stream';
import { dh, generateKeyPair } from '../lib/crypto/x25519';
import { fmt, opsPerSecond } from './measure';

/**
 * Figures for the encryption core (issue 3): streaming AEAD throughput as a ratio to raw
 * AES-256-GCM in the same run, HPKE seal/open for our node:crypto implementation and @hpke/core,
 * X25519, Argon2id unlock time, and RSS growth while a 1 GiB stream is encrypted and decrypted.
 */

const binding = { tenant: 'bench', epoch: 'e', message: 'm', purpose: 'mail-body' } as const;
const MiB = 1024 * 1024;
const CHUNK = randomBytes(MiB);

/** A stream of `total` bytes made from one random MiB (content does not affect AES speed). */
const source = (total: number) =>
  Readable.from(
    (function* () {
      for (let sent = 0; sent < total; sent += MiB)
        yield CHUNK.subarray(0, Math.min(MiB, total - sent));
    })(),
  );
const sink = () =>
  new Writable({
    write(_c, _e, cb) {
      cb();
    },
  });

/** Raw AES-256-GCM over the same data, fed in the same 64 KiB pieces, one context. */
function rawGcm(total: number): number {
  const key = randomBytes(32);
  const iv = randomBytes(12);
  const start = performance.now();
  const c = createCipheriv('aes-256-gcm', key, iv);
  for (let sent = 0; sent < total; sent += MiB)
    for (let o = 0; o < MiB; o += SEGMENT) c.update(CHUNK.subarray(o, o + SEGMENT));
  c.final();
  c.getAuthTag();
  return performance.now() - start;
}

const timed = async (f: () => Promise<void>, total: number) => {
  const t = performance.now();
  await f();
  return (total / MiB / (performance.now() - t)) * 1000;
};

/** Both directions into a discarding sink, so neither pays for holding the output. */
async function streamMiBs(
  total: number,
  ct: Buffer[],
  dek: Buffer,
): Promise<{ enc: number; dec: number }> {
  const enc = await timed(
    () => pipeline(source(total), new EncryptStream(dek, binding), sink()),
    total,
  );
  const dec = await timed(
    () => pipeline(Readable.from(ct), new DecryptStream(dek, binding), sink()),
    total,
  );
  return { enc, dec };
}

async function ciphertextOf(total: number, dek: Buffer): Promise<Buffer[]> {
  const ct: Buffer[] = [];
  await pipeline(
    source(total),
    new EncryptStream(dek, binding),
    new Writable({
      write(c: Buffer, _e, cb) {
        ct.push(c);
        cb();
      },
    }),
  );
  return ct;
}

async function rssGrowthGiB(): Promise<{ growthMiB: number; seconds: number }> {
  global.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const dek = randomBytes(32);
  const start = performance.now();
  // Encrypt and decrypt in one pipeline: 1 GiB flows through, nothing is collected.
  await pipeline(
    source(1024 * MiB),
    new EncryptStream(dek, binding),
    new DecryptStream(dek, binding),
    sink(),
  );
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  return { growthMiB: (peak - base) / MiB, seconds: (performance.now() - start) / 1000 };
}

export async function benchCrypto(): Promise<void> {
  // First, before anything else has grown the heap: RSS rarely shrinks once it has grown.
  const mem = await rssGrowthGiB();
  console.log(
    `1 GiB encrypt+decrypt stream: RSS growth ${mem.growthMiB.toFixed(1)} MiB (goal < 64 MiB), ${mem.seconds.toFixed(1)} s`,
  );
  const total = 256 * MiB;
  const dek = randomBytes(32);
  const ct = await ciphertextOf(total, dek);
  // Warm up both paths, then take the best of three for each, interleaved.
  rawGcm(32 * MiB);
  let raw = 0;
  const s = { enc: 0, dec: 0 };
  for (let i = 0; i < 3; i++) {
    raw = Math.max(raw, (total / MiB / rawGcm(total)) * 1000);
    const r = await streamMiBs(total, ct, dek);
    s.enc = Math.max(s.enc, r.enc);
    s.dec = Math.max(s.dec, r.dec);
  }
  ct.length = 0;
  console.log(`raw AES-256-GCM (64 KiB updates, one context): ${fmt(raw)} MiB/s`);
  figure('baseline', 'raw AES-256-GCM', raw, 'MiB/s');
  figure('crypto', 'streaming AEAD encrypt', s.enc, 'MiB/s');
  figure('crypto', 'streaming AEAD decrypt', s.dec, 'MiB/s');
  console.log(
    `streaming AEAD encrypt: ${fmt(s.enc)} MiB/s (ratio ${(s.enc / raw).toFixed(2)}), decrypt: ${fmt(s.dec)} MiB/s (ratio ${(s.dec / raw).toFixed(2)})`,
  );

  const r = generateKeyPair();
  const info = Buffer.from('mailrepo/v1|bench');
  const aad = Buffer.from([1, 1]);
  const sealed = hpke.seal(r.publicKey, info, aad, dek);
  const ourSeal = await opsPerSecond(async () => hpke.seal(r.publicKey, info, aad, dek));
  const ourOpen = await opsPerSecond(async () =>
    hpke.open(r.privateKey, sealed.enc, info, aad, sealed.ciphertext),
  );
  console.log(`HPKE (ours, node:crypto): seal ${fmt(ourSeal)}/s, open ${fmt(ourOpen)}/s`);
  figure('crypto', 'HPKE seal (DEK to epoch key)', ourSeal, '/s');
  figure('crypto', 'HPKE open', ourOpen, '/s');

  const suite = new CipherSuite({
    kem: new DhkemX25519HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: new Aes256Gcm(),
  });
  const rkp = await suite.kem.generateKeyPair();
  const ab = dek.buffer.slice(dek.byteOffset, dek.byteOffset + dek.length) as ArrayBuffer;
  const theirs = await suite.seal(
    {
      recipientPublicKey: rkp.publicKey,
      info: info.buffer.slice(info.byteOffset, info.byteOffset + info.length) as ArrayBuffer,
    },
    ab,
  );
  const libSeal = await opsPerSecond(() => suite.seal({ recipientPublicKey: rkp.publicKey }, ab));
  const libOpen = await opsPerSecond(() =>
    suite.open(
      {
        recipientKey: rkp.privateKey,
        enc: theirs.enc,
        info: info.buffer.slice(info.byteOffset, info.byteOffset + info.length) as ArrayBuffer,
      },
      theirs.ct,
    ),
  );
  console.log(`HPKE (@hpke/core, WebCrypto): seal ${fmt(libSeal)}/s, open ${fmt(libOpen)}/s`);

  const other = generateKeyPair();
  const keygen = await opsPerSecond(async () => generateKeyPairSync('x25519'));
  const dhOps = await opsPerSecond(async () => dh(r.privateKey, other.publicKey));
  console.log(`X25519: key generation ${fmt(keygen)}/s, DH ${fmt(dhOps)}/s`);

  const { record } = await newPassword('benchmark password', DEFAULT_ARGON2);
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await checkPassword('benchmark password', record);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  figure('crypto', 'Argon2id unlock (median)', times[2]!, 'ms');
  figure('crypto', '1 GiB stream: RSS growth', mem.growthMiB, 'MiB');
  console.log(
    `Argon2id unlock (m=${DEFAULT_ARGON2.memoryKiB / 1024} MiB, t=${DEFAULT_ARGON2.iterations}, p=${DEFAULT_ARGON2.parallelism}): median ${fmt(times[2]!)} ms`,
  );
}

if (require.main === module) {
  benchCrypto().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

import { randomBytes } from 'node:crypto';
import {
  generateSigningKey,
  NoteError,
  openCheckpoint,
  parseVerifierKey,
  signCheckpoint,
  verifierKey,
} from '../../lib/ledger/checkpoint';

describe('C2SP signed checkpoints (Ed25519)', () => {
  const key = generateSigningKey();
  const name = 'archive.example/mailrepo/tenant/t1';
  const cp = { origin: name, size: 12345, root: randomBytes(32) };
  const note = signCheckpoint(cp, name, key.privateKey, key.publicKey);

  it('has the tlog-checkpoint body and one signature line', () => {
    const lines = note.split('\n');
    expect(lines.slice(0, 3)).toEqual([name, '12345', cp.root.toString('base64')]);
    expect(lines[3]).toBe('');
    expect(lines[4]).toMatch(new RegExp(`^\u2014 ${name} [A-Za-z0-9+/]{91}=$`));
    expect(note.endsWith('\n')).toBe(true);
  });

  it('verifies with the log key and round-trips the verifier key text', () => {
    const vkey = parseVerifierKey(verifierKey({ name, publicKey: key.publicKey }));
    expect(openCheckpoint(note, vkey)).toEqual(cp);
  });

  it('rejects another key, a changed body and a changed signature', () => {
    const other = generateSigningKey();
    expect(() => openCheckpoint(note, { name, publicKey: other.publicKey })).toThrow(
      /not signed by/,
    );
    expect(() =>
      openCheckpoint(note.replace('12345', '12346'), { name, publicKey: key.publicKey }),
    ).toThrow(/invalid/);
    const sigStart = note.lastIndexOf(' ') + 1;
    const sig = Buffer.from(note.slice(sigStart, -1), 'base64');
    sig[10]! ^= 1;
    const tampered = note.slice(0, sigStart) + sig.toString('base64') + '\n';
    expect(() => openCheckpoint(tampered, { name, publicKey: key.publicKey })).toThrow(NoteError);
    expect(() => openCheckpoint('no signature', { name, publicKey: key.publicKey })).toThrow(
      NoteError,
    );
  });

  it('rejects a verifier key whose hash does not match', () => {
    const v = verifierKey({ name, publicKey: key.publicKey });
    expect(() => parseVerifierKey(v.replace(/\+[0-9a-f]{8}\+/, '+00000000+'))).toThrow(/hash/);
  });
});

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as asn1js from 'asn1js';
import { buildRequest, TsaError, verifyResponse } from '../../lib/tsa/client';
import { createDevPki, issueCertificate, type DevPki } from '../../lib/tsa/dev-ca';
import { ab } from '../../lib/pki/pem';
import { pkijs } from '../../lib/pki/pkijs-engine';
import { respond } from '../../lib/tsa/responder';

/**
 * Our dev TSA against openssl, openssl's TSA against our client, and every way a token must be
 * rejected. openssl is the independent implementation a customer's auditor would use.
 */
describe('RFC 3161: dev TSA and client', () => {
  let dir: string;
  let pki: DevPki;
  const data = new TextEncoder().encode('tenant checkpoint 42\nroot hash\n');

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mailrepo-tsa-'));
    pki = await createDevPki();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const file = (name: string, content: string | Uint8Array) => {
    const p = path.join(dir, name);
    writeFileSync(p, content);
    return p;
  };
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' }).toString();

  it('issues tokens that `openssl ts -verify -CAfile` accepts', async () => {
    const req = buildRequest(data);
    const resp = await respond(req.der, { signer: pki.tsa });
    const out = openssl([
      'ts',
      '-verify',
      '-data',
      file('data.bin', data),
      '-in',
      file('dev.tsr', resp),
      '-CAfile',
      file('ca.pem', pki.ca.certPem),
    ]);
    expect(out).toMatch(/Verification: OK/);
    const text = openssl(['ts', '-reply', '-in', path.join(dir, 'dev.tsr'), '-text']);
    expect(text).toMatch(/Status: Granted/);
    expect(text).toContain(`Nonce: 0x${Buffer.from(req.nonce).toString('hex').toUpperCase()}`);
    // A token over other data fails openssl's check too.
    expect(() =>
      openssl([
        'ts',
        '-verify',
        '-data',
        file('other.bin', 'other'),
        '-in',
        path.join(dir, 'dev.tsr'),
        '-CAfile',
        path.join(dir, 'ca.pem'),
      ]),
    ).toThrow();
  });

  it('issues positive serial numbers and the required signed attributes', async () => {
    const req = buildRequest(data);
    const resp = pkijs.TimeStampResp.fromBER(ab(await respond(req.der, { signer: pki.tsa })));
    const sd = new pkijs.SignedData({ schema: resp.timeStampToken!.content });
    const attrs = sd.signerInfos[0]!.signedAttrs!.attributes.map((a) => a.type);
    expect(attrs).toEqual(
      expect.arrayContaining([
        '1.2.840.113549.1.9.3',
        '1.2.840.113549.1.9.4',
        '1.2.840.113549.1.9.16.2.47',
      ]),
    );
    const eContent = sd.encapContentInfo.eContent!;
    const inner = eContent.idBlock.isConstructed
      ? (eContent.valueBlock.value[0] as asn1js.OctetString)
      : eContent;
    const tst = pkijs.TSTInfo.fromBER(ab(new Uint8Array(inner.valueBlock.valueHexView)));
    expect(tst.serialNumber.valueBlock.valueHexView[0]! & 0x80).toBe(0);
    expect(pki.tsa.cert.serialNumber.valueBlock.valueHexView[0]! & 0x80).toBe(0);
  });

  it('accepts a token produced by `openssl ts -reply`', async () => {
    const cnf = file(
      'openssl-tsa.cnf',
      `[ tsa ]\ndefault_tsa = tsa_config1\n[ tsa_config1 ]\ndir = ${dir}\nserial = $dir/serial\ncrypto_device = builtin\n` +
        `signer_cert = $dir/ossl-tsa.pem\nsigner_key = $dir/ossl-tsa.key\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\n` +
        `digests = sha256, sha384, sha512\naccuracy = secs:1\nordering = yes\ntsa_name = yes\ness_cert_id_chain = no\ness_cert_id_alg = sha256\n`,
    );
    file('serial', '01\n');
    file('ossl-tsa.pem', pki.tsa.certPem);
    file('ossl-tsa.key', pki.tsa.keyPem);
    const req = buildRequest(data);
    openssl([
      'ts',
      '-reply',
      '-config',
      cnf,
      '-queryfile',
      file('req.tsq', req.der),
      '-out',
      path.join(dir, 'ossl.tsr'),
    ]);
    const token = await verifyResponse(readFileSync(path.join(dir, 'ossl.tsr')), {
      data,
      nonce: req.nonce,
      caPem: pki.ca.certPem,
      policy: '1.2.3.4.1',
    });
    expect(token.policy).toBe('1.2.3.4.1');
    expect(Math.abs(token.genTime.getTime() - Date.now())).toBeLessThan(60_000);
  });

  async function rejection(p: Promise<unknown>): Promise<TsaError> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TsaError);
    return err as TsaError;
  }

  it('rejects a token whose certificate lacks the timeStamping EKU', async () => {
    const noEku = await issueCertificate({
      commonName: 'not a TSA',
      isCa: false,
      timeStampingEku: false,
      issuer: pki.ca,
    });
    const req = buildRequest(data);
    const resp = await respond(req.der, { signer: noEku });
    expect(
      (await rejection(verifyResponse(resp, { data, nonce: req.nonce, caPem: pki.ca.certPem })))
        .reason,
    ).toBe('eku');
  });

  it('rejects a token with a nonce other than ours', async () => {
    const mine = buildRequest(data);
    const someoneElses = buildRequest(data);
    const resp = await respond(someoneElses.der, { signer: pki.tsa });
    expect(
      (await rejection(verifyResponse(resp, { data, nonce: mine.nonce, caPem: pki.ca.certPem })))
        .reason,
    ).toBe('nonce');
  });

  it('rejects a token over other data', async () => {
    const req = buildRequest(new TextEncoder().encode('something else'));
    const resp = await respond(req.der, { signer: pki.tsa });
    expect(
      (await rejection(verifyResponse(resp, { data, nonce: req.nonce, caPem: pki.ca.certPem })))
        .reason,
    ).toBe('imprint');
  });

  it('rejects a token from a TSA under another CA', async () => {
    const other = await createDevPki();
    const req = buildRequest(data);
    const resp = await respond(req.der, { signer: other.tsa });
    expect(
      (await rejection(verifyResponse(resp, { data, nonce: req.nonce, caPem: pki.ca.certPem })))
        .reason,
    ).toBe('chain');
  });

  it('rejects a token whose signature was altered', async () => {
    const req = buildRequest(data);
    const resp = Buffer.from(await respond(req.der, { signer: pki.tsa }));
    // The ECDSA signature is the last OCTET STRING of the SignerInfo, at the end of the token.
    resp[resp.length - 5]! ^= 0x01;
    const err = await rejection(
      verifyResponse(resp, { data, nonce: req.nonce, caPem: pki.ca.certPem }),
    );
    expect(['signature', 'malformed']).toContain(err.reason);
  });

  it('rejects a token whose ESS binding names another certificate', async () => {
    const req = buildRequest(data);
    const other = await issueCertificate({
      commonName: 'mailrepo dev TSA',
      isCa: false,
      timeStampingEku: true,
      issuer: pki.ca,
    });
    // Validly signed by the real TSA, but the signed ESS attribute names another certificate.
    const resp = await respond(req.der, { signer: pki.tsa, essCertificate: other.cert });
    expect(
      (await rejection(verifyResponse(resp, { data, nonce: req.nonce, caPem: pki.ca.certPem })))
        .reason,
    ).toBe('ess');
    // openssl agrees that the token is invalid.
    expect(() =>
      openssl([
        'ts',
        '-verify',
        '-data',
        file('ess.bin', data),
        '-in',
        file('ess.tsr', resp),
        '-CAfile',
        file('ca2.pem', pki.ca.certPem),
      ]),
    ).toThrow();
  });

  it('reports a TSA refusal (SHA-1 imprint) as rejected', async () => {
    const req = new pkijs.TimeStampReq({
      version: 1,
      messageImprint: new pkijs.MessageImprint({
        hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: '1.3.14.3.2.26' }),
        hashedMessage: new asn1js.OctetString({ valueHex: new Uint8Array(20).buffer }),
      }),
      certReq: true,
    });
    const resp = await respond(new Uint8Array(req.toSchema().toBER(false)), { signer: pki.tsa });
    expect(
      (
        await rejection(
          verifyResponse(resp, { data, nonce: new Uint8Array([1]), caPem: pki.ca.certPem }),
        )
      ).reason,
    ).toBe('rejected');
  });

  it('rejects a policy other than the configured one', async () => {
    const req = buildRequest(data);
    const resp = await respond(req.der, { signer: pki.tsa });
    expect(
      (
        await rejection(
          verifyResponse(resp, { data, nonce: req.nonce, caPem: pki.ca.certPem, policy: '1.2.3' }),
        )
      ).reason,
    ).toBe('policy');
  });
});

import { generateKeyPairSync } from 'node:crypto';
import { dkimSign, type DNSResolver } from 'mailauth';

/**
 * A DKIM signer for tests and the DNS it needs: a fresh RSA key whose public half the returned
 * resolver serves as `<selector>._domainkey.<domain>` TXT; every other name does not exist, as
 * for a domain without SPF or DMARC records.
 */
export function dkimDomain(domain: string, selector = 'journal') {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const p = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const records = new Map([[`${selector}._domainkey.${domain}`, `v=DKIM1; k=rsa; p=${p}`]]);
  const resolver: DNSResolver = async (name, rrtype) => {
    const txt = rrtype === 'TXT' ? records.get(name.toLowerCase()) : undefined;
    if (txt) return [[txt]];
    throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  };
  const sign = async (mail: Buffer): Promise<Buffer> => {
    // Signatures go in signatureData (top-level signing options alone sign nothing).
    const key = {
      signingDomain: domain,
      selector,
      privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }),
    };
    const r = await dkimSign(mail, { ...key, signatureData: [key] });
    return Buffer.concat([Buffer.from(r.signatures, 'latin1'), mail]);
  };
  return { resolver, sign };
}

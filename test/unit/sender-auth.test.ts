import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { dkimRefusal, startSenderAuth } from '../../lib/ingest/sender-auth';
import { parseDkimDomains } from '../../lib/ingest/journal-settings';
import { isInputError } from '../../lib/input/input-error';
import { crlf } from '../helpers/archive';
import { dkimDomain } from '../helpers/dkim';

/**
 * Sender authentication of SMTP journal mail (issue 22 §1): DKIM verified from the streamed bytes
 * with mailauth, a tenant's DKIM rule judged on the results, and DNS trouble giving temperror
 * instead of an error. DNS answers come from a resolver the test controls.
 */

const journalMail = (subject: string) =>
  crlf(
    `From: Journal <journal@firma.example>\nTo: archiv@firma.example\nSubject: ${subject}\n` +
      `Date: Tue, 1 Dec 2026 10:00:00 +0100\nMessage-ID: <${subject.replace(/\W/g, '')}@firma.example>\n\n` +
      'Der Inhalt des Journals.\n',
  );

async function check(
  mail: Buffer,
  resolver: Parameters<typeof startSenderAuth>[0]['resolver'],
  timeoutMs = 5_000,
) {
  const auth = startSenderAuth({
    ip: '192.0.2.10',
    helo: 'mail.firma.example',
    sender: 'journal@firma.example',
    mta: 'archiv.test',
    resolver,
    timeoutMs,
  });
  // In chunks, as the listener writes them.
  const chunks = [];
  for (let i = 0; i < mail.length; i += 7) chunks.push(mail.subarray(i, i + 7));
  await pipeline(Readable.from(chunks), auth.sink);
  return auth.results;
}

describe('sender authentication of journal mail', () => {
  const firma = dkimDomain('firma.example');

  it('verifies a DKIM signature of the signing domain; the tenant rule accepts it', async () => {
    const mail = await firma.sign(journalMail('Signiert'));
    const r = await check(mail, firma.resolver);
    expect(r.dkim).toEqual([{ domain: 'firma.example', selector: 'journal', result: 'pass' }]);
    expect(r.error).toBeUndefined();
    expect(dkimRefusal(r, ['firma.example'])).toBe(false);
    // A subdomain's signature counts for its parent domain, a look-alike does not.
    expect(dkimRefusal(r, ['example'])).toBe(false);
    expect(dkimRefusal(r, ['irma.example'])).toBe(true);
    expect(dkimRefusal(r, ['andere.example'])).toBe(true);
    // No rule: nothing is refused.
    expect(dkimRefusal(r, [])).toBe(false);
  });

  it('a changed body does not pass DKIM, and the rule refuses it', async () => {
    const signed = await firma.sign(journalMail('Verändert'));
    const forged = Buffer.from(
      signed.toString('latin1').replace('Der Inhalt', 'Ein anderer Inhalt'),
      'latin1',
    );
    const r = await check(forged, firma.resolver);
    expect(r.dkim).toHaveLength(1);
    // mailauth reports a body hash mismatch as neutral (RFC 6376 §6.1.3 leaves it to the verifier).
    expect(r.dkim[0]!.result).toMatch(/^(fail|neutral)$/);
    expect(dkimRefusal(r, ['firma.example'])).toBe(true);
  });

  it('a signature by another domain (its own key) does not satisfy the rule', async () => {
    const other = dkimDomain('angreifer.example');
    const mail = await other.sign(journalMail('Fremd'));
    const r = await check(mail, other.resolver);
    expect(r.dkim[0]).toMatchObject({ domain: 'angreifer.example', result: 'pass' });
    expect(dkimRefusal(r, ['firma.example'])).toBe(true);
  });

  it('unsigned mail: no signatures, refused by a rule; SPF without records is none', async () => {
    const r = await check(journalMail('Ohne'), firma.resolver);
    expect(r.dkim).toEqual([]);
    expect(r.spf.result).toBe('none');
    expect(dkimRefusal(r, ['firma.example'])).toBe(true);
  });

  it('DNS that never answers gives temperror after the timeout, not a hang or an error', async () => {
    const mail = await firma.sign(journalMail('Zeitüberschreitung'));
    const started = Date.now();
    const r = await check(mail, () => new Promise(() => {}), 300);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r.error).toMatch(/timed out/);
    expect(r.spf.result).toBe('temperror');
    expect(dkimRefusal(r, ['firma.example'])).toBe(true);
  });
});

describe('DKIM domains of the tenant rule', () => {
  it('normalises, de-duplicates, sorts and takes IDNs as ASCII', () => {
    expect(
      parseDkimDomains(' Firma.DE, @firma.onmicrosoft.com\nfirma.de  müller-bau.de. '),
    ).toEqual(['firma.de', 'firma.onmicrosoft.com', 'xn--mller-bau-q9a.de']);
    expect(parseDkimDomains('   ')).toEqual([]);
  });

  it.each(['localhost', 'firma..de', '-firma.de', 'firma.de/x', 'a@b.de', `${'a'.repeat(64)}.de`])(
    'refuses %j with a clear error',
    (bad) => {
      let error: unknown;
      try {
        parseDkimDomains(bad);
      } catch (e) {
        error = e;
      }
      expect(isInputError(error)).toBe(true);
      expect((error as { code: string }).code).toBe('journal.error.domain');
    },
  );

  it('refuses more than 50 domains', () => {
    const many = Array.from({ length: 51 }, (_, i) => `d${i}.example`).join(',');
    expect(() => parseDkimDomains(many)).toThrow('journal.error.tooManyDomains');
  });
});

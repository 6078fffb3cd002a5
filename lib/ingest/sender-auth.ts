import { PassThrough } from 'node:stream';
import { authenticate, type DNSResolver } from 'mailauth';

/**
 * Sender authentication of SMTP journal mail (issue 22 §1) with `mailauth`: SPF for the delivering
 * host, every DKIM signature, ARC and DMARC, computed from the same bytes as the archive while they
 * arrive. The results are recorded with the receipt; a tenant may require journal mail to carry a
 * valid DKIM signature of one of its domains (`dkimRefusal`). DNS answers come from the system
 * resolver; lookups that fail or take too long give `temperror`, never a lost mail.
 */

export interface SenderAuthResults {
  spf: { result: string; domain?: string };
  dkim: { domain: string; selector?: string; result: string }[];
  arc: string;
  dmarc: string;
  /** Why the results are incomplete (the checks timed out or failed), if they are. */
  error?: string;
}

export interface SenderAuthInput {
  ip: string;
  helo?: string;
  /** MAIL FROM; empty for bounces. */
  sender: string;
  /** Our host name, the authserv-id of the results. */
  mta: string;
  /** Tests answer DNS themselves; production uses the system's resolver. */
  resolver?: DNSResolver;
  timeoutMs: number;
}

const unknown = (error: string): SenderAuthResults => ({
  spf: { result: 'temperror' },
  dkim: [],
  arc: 'none',
  dmarc: 'none',
  error,
});

/**
 * Starts the checks: write the mail to `sink` and end it; `results` settles once the checks are
 * done (or after `timeoutMs`, with what could not be checked as `temperror`). Never rejects.
 */
export function startSenderAuth(input: SenderAuthInput): {
  sink: PassThrough;
  results: Promise<SenderAuthResults>;
} {
  // The DKIM verifier keeps only header lines and body hashes: memory stays flat for big mails.
  const sink = new PassThrough({ highWaterMark: 256 * 1024 });
  const checked = authenticate(sink, {
    ip: input.ip,
    helo: input.helo,
    sender: input.sender,
    mta: input.mta,
    resolver: input.resolver,
    disableBimi: true,
  }).then(
    (r): SenderAuthResults => ({
      spf: r.spf
        ? { result: r.spf.status.result, ...(r.spf.domain ? { domain: r.spf.domain } : {}) }
        : { result: 'none' },
      // An unsigned mail has one placeholder result without a domain: no signatures.
      dkim: (r.dkim.results ?? [])
        .filter((s) => s.signingDomain)
        .map((s) => ({
          domain: (s.signingDomain ?? '').toLowerCase(),
          ...(s.selector ? { selector: s.selector } : {}),
          result: s.status.result,
        })),
      arc: r.arc ? r.arc.status.result : 'none',
      dmarc: r.dmarc ? r.dmarc.status.result : 'none',
    }),
    (e: unknown) => unknown(e instanceof Error ? e.message : String(e)),
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<SenderAuthResults>((resolve) => {
    timer = setTimeout(() => {
      // Whatever is still to come is read to its end and dropped: the mail is not held up.
      sink.unpipe();
      sink.resume();
      resolve(unknown('sender checks timed out'));
    }, input.timeoutMs);
    timer.unref();
  });
  const results = Promise.race([checked, timeout]).finally(() => clearTimeout(timer));
  return { sink, results };
}

/**
 * Whether a tenant that requires DKIM from `domains` refuses this mail: none of its valid
 * signatures is by one of them (or a subdomain). An empty list requires nothing.
 */
export function dkimRefusal(results: SenderAuthResults, domains: readonly string[]): boolean {
  if (domains.length === 0) return false;
  const by = (signer: string, d: string) => signer === d || signer.endsWith(`.${d}`);
  return !results.dkim.some(
    (s) => s.result === 'pass' && domains.some((d) => by(s.domain, d.toLowerCase())),
  );
}

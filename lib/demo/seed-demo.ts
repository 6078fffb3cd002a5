import { randomBytes } from 'node:crypto';
import type { Actor } from '../audit/record';
import type { Config } from '../config';
import type { Db } from '../db';
import { addIngestAddress } from '../ingest/addresses';
import { configuredTarget, ingestTransport, sendRaw } from '../ingest/send-mail';
import { createTenant } from '../vault/tenants';
import { demoMailbox } from './demo-mailbox';

/**
 * `mailrepo demo` (issue 25 §4): a development tenant with a realistic mailbox, delivered through
 * the real LMTP path — STARTTLS, the listener's checks, encryption, ledger, index — so a newcomer
 * sees the product work minutes after `npm run dev`. The owner's password is printed, which is
 * why production refuses it.
 */

export interface DemoTenant {
  tenantId: string;
  email: string;
  password: string;
  recoveryKey: string;
  ingestAddress: string;
  mails: number;
  signIn: string;
}

export async function seedDemo(
  db: Db,
  cfg: Config,
  opts: { mails: number; name?: string; actor: Actor; progress?: (sent: number) => void },
): Promise<DemoTenant> {
  if (cfg.NODE_ENV === 'production')
    throw new Error('mailrepo demo is refused in production: it prints an owner password');
  if (!Number.isInteger(opts.mails) || opts.mails < 1 || opts.mails > 5000)
    throw new Error('--mails must be 1 to 5000');
  const domain = `mueller-partner-${randomBytes(3).toString('hex')}.example`;
  const email = `k.mueller@${domain}`;
  const password = `Demo-${randomBytes(12).toString('base64url')}`;
  const t = await createTenant(db, {
    name: opts.name ?? 'Müller & Partner Steuerberatung (Demo)',
    admin: { email, password },
    adminRole: 'owner',
    actor: opts.actor,
  });
  const ingestAddress = `archiv@${domain}`;
  await addIngestAddress(db, t.tenantId, ingestAddress, opts.actor);
  const transport = ingestTransport(configuredTarget(cfg, 'lmtp'));
  let sent = 0;
  try {
    for (const m of await demoMailbox({ domain, count: opts.mails })) {
      const r = await sendRaw(transport, {
        from: `journal@${domain}`,
        to: [ingestAddress],
        raw: m.raw,
      });
      if (!r.accepted.length)
        throw new Error(`the LMTP listener refused a demo mail: ${r.response}`);
      opts.progress?.(++sent);
    }
  } finally {
    transport.close();
  }
  return {
    tenantId: t.tenantId,
    email,
    password,
    recoveryKey: t.recoveryKey,
    ingestAddress,
    mails: sent,
    signIn: `${cfg.PORTAL_PUBLIC_URL.replace(/\/+$/, '')}/login`,
  };
}

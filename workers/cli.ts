import { rebuildIndex } from '../lib/search/index-store';
import Table from 'cli-table3';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { Command } from 'commander';
import { config, tsaRootsPem } from '../lib/config';
import { dbFromConfig } from '../lib/db';
import { runChecks } from '../lib/doctor/checks';
import { verifierKey } from '../lib/ledger/checkpoint';
import { verifyLog } from '../lib/ledger/verify-log';
import { buildProofBundle } from '../lib/proof/build-bundle';
import { createSetupInvite } from '../lib/auth/invites';
import { exportAuditLog } from '../lib/audit/export';
import type { Actor } from '../lib/audit/record';
import { verifyAuditChain } from '../lib/audit/verify-chain';
import type { Db } from '../lib/db';
import {
  addIngestAddress,
  listIngestAddresses,
  removeIngestAddress,
} from '../lib/ingest/addresses';
import {
  createCertificateCredential,
  createPasswordCredential,
  listCredentials,
  revokeCredential,
} from '../lib/ingest/credentials';
import {
  createJournalAddress,
  journalAddressShown,
  listJournalAddresses,
  revokeJournalAddress,
} from '../lib/ingest/journal-addresses';
import { changeJournalDkimDomains, parseDkimDomains } from '../lib/ingest/journal-settings';
import { loadIngestCa } from '../lib/ingest/ingest-ca';
import { verifyBundle } from '../lib/proof/verify-bundle';
import { evidenceStatus } from '../lib/ledger/anchor-evidence';
import { seedDemo } from '../lib/demo/seed-demo';
import { configuredTarget, ingestTransport, sendRaw } from '../lib/ingest/send-mail';
import { connectTemporal } from '../lib/temporal/client';
import { startWorkflow } from '../lib/temporal/start-workflow';
import { buildId, version } from '../lib/version';

/** The `mailrepo` operator command. */

/** Who acts when an operator runs a command: recorded in audit events. */
const operator = (): Extract<Actor, { type: 'operator' }> => ({
  type: 'operator',
  label: `cli:${os.userInfo().username}`,
});

async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const db = dbFromConfig(config(), 2);
  try {
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

const program = new Command('mailrepo')
  .description('mailrepo operator tools')
  .version(`${version} (build ${buildId})`);

program
  .command('doctor')
  .description('check every service: reachable, version, TLS; exits 1 when one is down')
  .option('--json', 'print JSON instead of a table')
  .action(async (opts: { json?: boolean }) => {
    const results = await runChecks(config());
    if (opts.json) console.log(JSON.stringify(results, null, 2));
    else {
      const color = process.stdout.isTTY;
      const mark = (ok: boolean) =>
        ok ? (color ? '\x1b[32mup\x1b[0m' : 'up') : color ? '\x1b[31mDOWN\x1b[0m' : 'DOWN';
      const table = new Table({
        head: ['service', 'status', 'version', 'TLS', 'detail'],
        style: { head: [], border: [] },
      });
      for (const r of results) table.push([r.service, mark(r.ok), r.version, r.tls, r.detail]);
      console.log(table.toString());
    }
    const down = results.filter((r) => !r.ok);
    if (down.length) {
      console.error(`${down.length} service(s) down: ${down.map((r) => r.service).join(', ')}`);
      process.exitCode = 1;
    }
  });

const ledger = program.command('ledger').description('Merkle ledger tools');
ledger
  .command('verify')
  .description('recompute a log from its entries and check tiles, checkpoints and anchoring')
  .option('--tenant <id>', 'tenant whose log to verify')
  .option('--anchor', 'verify the global anchor log instead')
  .action(async (opts: { tenant?: string; anchor?: boolean }) => {
    if (!opts.tenant === !opts.anchor)
      throw new Error('give exactly one of --tenant <id> or --anchor');
    await withDb(async (db) => {
      const log = await db
        .selectFrom('ledger_logs')
        .select('id')
        .where((eb) =>
          opts.tenant ? eb('tenant_id', '=', opts.tenant) : eb('tenant_id', 'is', null),
        )
        .executeTakeFirst();
      if (!log)
        throw new Error(
          opts.tenant ? `tenant ${opts.tenant} has no ledger yet` : 'no anchor log yet',
        );
      const report = await verifyLog(db, log.id);
      console.log(`log ${report.logId}: ${report.size} entries, ${report.checkpoints} checkpoints`);
      if (!report.problems.length)
        console.log('OK: tiles, roots, checkpoint signatures, consistency and anchoring verified');
      for (const p of report.problems) console.error(`FAILED at index ${p.at}: ${p.what}`);
      if (report.problems.length) process.exitCode = 1;
    });
  });

program
  .command('proof')
  .description('write the proof bundle (ZIP) of an archived mail')
  .requiredOption('--tenant <id>', 'the tenant')
  .option('--mail <file>', 'the mail (.eml); its SHA-256 names the entry')
  .option('--sha256 <hex>', 'the entry, when the mail itself is not at hand')
  .requiredOption('-o, --out <file>', 'where to write the bundle')
  .action(async (opts: { tenant: string; mail?: string; sha256?: string; out: string }) => {
    if (!opts.mail === !opts.sha256) throw new Error('give exactly one of --mail or --sha256');
    const entry = opts.mail
      ? createHash('sha256').update(readFileSync(opts.mail)).digest()
      : Buffer.from(opts.sha256!, 'hex');
    if (entry.length !== 32) throw new Error('--sha256 must be 64 hex digits');
    await withDb(async (db) => {
      const bundle = await buildProofBundle(db, {
        tenantId: opts.tenant,
        entrySha256: entry,
        tsaCaPem: tsaRootsPem(config()),
      });
      writeFileSync(opts.out, bundle.zip);
      const m = bundle.manifest;
      console.log(
        `wrote ${opts.out}: entry ${m.tenantLog.index} of ${m.tenantLog.origin}, timestamped ${m.timestamp.genTime}`,
      );
    });
  });

ledger
  .command('keys')
  .description('print the verifier keys of the anchor log and, with --tenant, of a tenant log')
  .option('--tenant <id>', 'also the tenant log key')
  .action((opts: { tenant?: string }) =>
    withDb(async (db) => {
      const rows = await db
        .selectFrom('ledger_logs')
        .select(['tenant_id', 'origin', 'signing_public_key'])
        .where((eb) =>
          opts.tenant
            ? eb.or([eb('tenant_id', 'is', null), eb('tenant_id', '=', opts.tenant)])
            : eb('tenant_id', 'is', null),
        )
        .execute();
      if (opts.tenant && !rows.some((r) => r.tenant_id === opts.tenant))
        throw new Error(`tenant ${opts.tenant} has no ledger yet`);
      for (const r of rows)
        console.log(
          `${r.tenant_id ? 'tenant' : 'anchor'}\t${verifierKey({ name: r.origin, publicKey: r.signing_public_key })}`,
        );
    }),
  );

const audit = program.command('audit').description('the tamper-evident audit log');
audit
  .command('verify')
  .description("recompute a tenant's audit chain and compare it with the heads in its ledger")
  .requiredOption('--tenant <id>', 'the tenant')
  .action((opts: { tenant: string }) =>
    withDb(async (db) => {
      const r = await verifyAuditChain(db, opts.tenant);
      console.log(
        `tenant ${opts.tenant}: ${r.events} events, ${r.anchoredHeads} heads in the ledger`,
      );
      if (!r.problems.length) console.log('OK: chain recomputed, every ledgered head matches');
      for (const p of r.problems) console.error(`FAILED at event ${p.seq}: ${p.what}`);
      if (r.problems.length) process.exitCode = 1;
    }),
  );
audit
  .command('export')
  .description('write the audit log of a time range (JSON, CSV, anchored heads with proofs) as ZIP')
  .requiredOption('--tenant <id>', 'the tenant')
  .option('--from <iso-date>', 'first instant (inclusive)')
  .option('--to <iso-date>', 'last instant (exclusive)')
  .requiredOption('-o, --out <file>', 'where to write the ZIP')
  .action((opts: { tenant: string; from?: string; to?: string; out: string }) =>
    withDb(async (db) => {
      const date = (s: string | undefined, name: string) => {
        if (s === undefined) return undefined;
        const d = new Date(s);
        if (Number.isNaN(d.getTime())) throw new Error(`--${name} is not a date: ${s}`);
        return d;
      };
      const r = await exportAuditLog(db, {
        tenantId: opts.tenant,
        from: date(opts.from, 'from'),
        to: date(opts.to, 'to'),
        tsaCaPem: tsaRootsPem(config()),
        actor: operator(),
      });
      writeFileSync(opts.out, r.zip);
      console.log(`wrote ${opts.out}: ${r.events} events, ${r.anchors.length} anchored heads`);
    }),
  );

const tenant = program.command('tenant').description('customers (tenants) of this archive');
tenant
  .command('create')
  .description("create a tenant: prints the owner's one-time invitation link (7 days)")
  .requiredOption('--name <name>', 'the customer, as shown in the portal')
  .requiredOption('--admin <email>', "the owner's e-mail address")
  .action((opts: { name: string; admin: string }) =>
    withDb(async (db) => {
      const name = opts.name.trim();
      if (!name || name.length > 200) throw new Error('--name must be 1 to 200 characters');
      if (!/^[^@\s]+@[^@\s]+$/.test(opts.admin.trim()))
        throw new Error('--admin must be an e-mail address');
      const op = operator();
      const invite = await createSetupInvite(db, {
        tenantName: name,
        email: opts.admin,
        invitedBy: op.type === 'operator' ? op.label : 'cli',
      });
      const base = config().PORTAL_PUBLIC_URL.replace(/\/+$/, '');
      console.log(
        `tenant ${invite.tenantId} (${name}) is waiting for its owner ${opts.admin.trim()}.`,
      );
      console.log(`One-time invitation link, valid until ${invite.expiresAt.toISOString()}:`);
      console.log(`  ${base}/invite/${invite.token}`);
      console.log('The owner sets a password, saves the recovery key and enrols a second factor.');
    }),
  );

const ingest = program.command('ingest-address').description("a tenant's journal addresses");
ingest
  .command('add')
  .argument('<address>', 'recipient address the mail server journals to')
  .requiredOption('--tenant <id>', 'the tenant')
  .action((address: string, opts: { tenant: string }) =>
    withDb(async (db) => {
      await addIngestAddress(db, opts.tenant, address, operator());
      console.log(`added ${address.trim().toLowerCase()}`);
    }),
  );
ingest
  .command('remove')
  .argument('<address>', 'the address to stop accepting mail for')
  .requiredOption('--tenant <id>', 'the tenant')
  .action((address: string, opts: { tenant: string }) =>
    withDb(async (db) => {
      await removeIngestAddress(db, opts.tenant, address, operator());
      console.log(`removed ${address.trim().toLowerCase()}`);
    }),
  );
ingest
  .command('list')
  .requiredOption('--tenant <id>', 'the tenant')
  .action((opts: { tenant: string }) =>
    withDb(async (db) => {
      for (const a of await listIngestAddresses(db, opts.tenant))
        console.log(`${a.address}\tsince ${a.createdAt.toISOString()}`);
    }),
  );

const search = program.command('search').description("a tenant's encrypted search index");
search
  .command('rebuild')
  .description(
    'drop the index and queue every mail again; documents never read (PDF, Office…) are read ' +
      'first. The work runs while a user of the tenant is signed in (it needs their keys).',
  )
  .requiredOption('--tenant <id>', 'the tenant')
  .action((opts: { tenant: string }) =>
    withDb(async (db) => {
      const queued = await rebuildIndex(db, opts.tenant, operator());
      console.log(`${queued} mails queued; the index is rebuilt at the next sign-in of the tenant`);
    }),
  );

const credential = program
  .command('ingest-credential')
  .description(
    "credentials of a tenant's mail servers on LMTP: a client certificate, or AUTH PLAIN over STARTTLS",
  );
credential
  .command('create')
  .description(
    'create a credential; prints its user name and secret once, or with --certificate writes the certificate (and a new key) to --out',
  )
  .option('--tenant <id>', 'the tenant whose addresses it may deliver to')
  .option('--operator', "an operator's relay: may deliver to every tenant")
  .requiredOption('--label <text>', 'which server it is for')
  .option('--certificate', 'a client certificate from the ingest CA instead of a secret')
  .option('--csr <file>', "with --certificate: the mail server's own request (its key stays there)")
  .option('--out <prefix>', 'with --certificate: writes <prefix>.pem (and <prefix>.key)', 'ingest')
  .action(
    (opts: {
      tenant?: string;
      operator?: boolean;
      label: string;
      certificate?: boolean;
      csr?: string;
      out: string;
    }) =>
      withDb(async (db) => {
        if (!!opts.tenant === !!opts.operator)
          throw new Error('name exactly one of --tenant <id> or --operator');
        const op = operator();
        if (opts.certificate) {
          const cfg = config();
          if (!cfg.INGEST_CA_CERT_FILE || !cfg.INGEST_CA_KEY_FILE)
            throw new Error('INGEST_CA_CERT_FILE and INGEST_CA_KEY_FILE must name the ingest CA');
          const c = await createCertificateCredential(
            db,
            await loadIngestCa(cfg.INGEST_CA_CERT_FILE, cfg.INGEST_CA_KEY_FILE),
            {
              tenantId: opts.tenant ?? null,
              label: opts.label,
              actor: op,
              createdBy: op.type === 'operator' ? op.label : 'cli',
              csrPem: opts.csr ? readFileSync(opts.csr, 'utf8') : undefined,
              validDays: cfg.INGEST_CERT_VALID_DAYS,
            },
          );
          writeFileSync(`${opts.out}.pem`, c.certPem);
          if (c.keyPem) writeFileSync(`${opts.out}.key`, c.keyPem, { mode: 0o600 });
          console.log(
            `credential ${c.id} (${opts.tenant ? `tenant ${opts.tenant}` : 'operator relay'}), valid until ${c.expiresAt.toISOString()}`,
          );
          console.log(
            `wrote ${opts.out}.pem${c.keyPem ? ` and ${opts.out}.key (the key exists nowhere else)` : ''}`,
          );
          return;
        }
        const c = await createPasswordCredential(db, {
          tenantId: opts.tenant ?? null,
          label: opts.label,
          actor: op,
          createdBy: op.type === 'operator' ? op.label : 'cli',
        });
        console.log(
          `credential ${c.id} (${opts.tenant ? `tenant ${opts.tenant}` : 'operator relay'})`,
        );
        console.log('AUTH PLAIN over STARTTLS; shown once, store it in the mail server now:');
        console.log(`  user name: ${c.id}`);
        console.log(`  secret:    ${c.secret}`);
      }),
  );
credential
  .command('revoke')
  .argument('<id>', 'the credential')
  .option('--tenant <id>', 'the tenant it belongs to (omit for an operator relay)')
  .action((id: string, opts: { tenant?: string }) =>
    withDb(async (db) => {
      await revokeCredential(db, {
        tenantId: opts.tenant ?? null,
        credentialId: id,
        actor: operator(),
      });
      console.log(`revoked ${id}`);
    }),
  );
credential
  .command('list')
  .requiredOption('--tenant <id>', 'the tenant')
  .action((opts: { tenant: string }) =>
    withDb(async (db) => {
      for (const c of await listCredentials(db, opts.tenant))
        console.log(
          `${c.id}\t${c.kind}\t${c.label}\tcreated ${c.created_at.toISOString()}${
            c.expires_at ? `\texpires ${c.expires_at.toISOString()}` : ''
          }${c.revoked_at ? `\trevoked ${c.revoked_at.toISOString()}` : ''}`,
        );
    }),
  );

const journal = program
  .command('journal-address')
  .description(
    "a tenant's SMTP journal addresses (Microsoft 365, Google Workspace, always_bcc): the address is the credential",
  );
journal
  .command('create')
  .description('create an address on JOURNAL_DOMAIN; prints it once (it is not stored)')
  .requiredOption('--tenant <id>', 'the tenant')
  .requiredOption('--label <text>', 'which service journals to it')
  .action((opts: { tenant: string; label: string }) =>
    withDb(async (db) => {
      const a = await createJournalAddress(db, {
        tenantId: opts.tenant,
        label: opts.label,
        domain: config().JOURNAL_DOMAIN,
        actor: operator(),
        createdBy: operator().label,
      });
      console.log(`journal address ${a.id} (shown once, keep it like a password):`);
      console.log(`  ${a.address}`);
    }),
  );
journal
  .command('revoke')
  .argument('<id>', 'the address')
  .requiredOption('--tenant <id>', 'the tenant')
  .action((id: string, opts: { tenant: string }) =>
    withDb(async (db) => {
      await revokeJournalAddress(db, { tenantId: opts.tenant, addressId: id, actor: operator() });
      console.log(`revoked ${id}`);
    }),
  );
journal
  .command('list')
  .requiredOption('--tenant <id>', 'the tenant')
  .action((opts: { tenant: string }) =>
    withDb(async (db) => {
      const domain = config().JOURNAL_DOMAIN;
      for (const a of await listJournalAddresses(db, opts.tenant))
        console.log(
          `${a.id}	${journalAddressShown(a.hint, domain)}	${a.label}	created ${a.created_at.toISOString()}${
            a.revoked_at ? `	revoked ${a.revoked_at.toISOString()}` : ''
          }`,
        );
    }),
  );
journal
  .command('require-dkim')
  .description(
    'refuse journal mail without a valid DKIM signature of one of these domains ("" requires none)',
  )
  .argument('<domains>', 'comma-separated, e.g. "firma.de,firma.onmicrosoft.com"')
  .requiredOption('--tenant <id>', 'the tenant')
  .action((raw: string, opts: { tenant: string }) =>
    withDb(async (db) => {
      const domains = parseDkimDomains(raw);
      await changeJournalDkimDomains(db, { tenantId: opts.tenant, actor: operator() }, domains);
      console.log(domains.length ? `DKIM required from ${domains.join(', ')}` : 'no DKIM required');
    }),
  );

program
  .command('verify')
  .description('verify a proof bundle against the mail it is for; needs no database or service')
  .argument('<bundle>', 'the proof bundle (.zip)')
  .argument('<mail>', 'the archived mail (.eml), byte for byte')
  .option('--tenant-key <vkey>', "the tenant log's verifier key, as shown in the portal")
  .option('--anchor-key <vkey>', "the anchor log's published verifier key")
  .option('--tsa-root <pem>', "the TSAs' root certificates, from the TSAs themselves")
  .option('--at <date>', 'judge the evidence records at this date (ISO 8601; default now)')
  .action(
    async (
      bundlePath: string,
      mailPath: string,
      opts: { tenantKey?: string; anchorKey?: string; tsaRoot?: string; at?: string },
    ) => {
      const at = opts.at === undefined ? undefined : new Date(opts.at);
      if (at && Number.isNaN(at.getTime())) throw new Error(`--at ${opts.at} is not a date`);
      try {
        const v = await verifyBundle(readFileSync(bundlePath), readFileSync(mailPath), {
          tenantKey: opts.tenantKey,
          anchorKey: opts.anchorKey,
          tsaRootPem: opts.tsaRoot && readFileSync(opts.tsaRoot, 'utf8'),
          at,
        });
        for (const line of v.report) console.log(`OK   ${line}`);
        if (v.trustedFromBundle.length) {
          console.log('NOTE taken from the bundle; compare with the published values:');
          for (const t of v.trustedFromBundle) console.log(`     ${t}`);
        }
        console.log(
          `VERIFIED: the mail was archived unchanged no later than ${v.genTime.toISOString()}`,
        );
      } catch (e) {
        console.log(`FAILED: ${e instanceof Error ? e.message : String(e)}`);
        process.exitCode = 1;
      }
    },
  );

program
  .command('send')
  .description(
    'deliver a mail (a file, or a generated test mail) to an ingest or journal address, as a mail server does: STARTTLS, certificate checked',
  )
  .argument('[file]', 'the mail (.eml); without it a test mail is generated')
  .requiredOption('--to <address>', 'the ingest address (LMTP) or journal address (--smtp)')
  .option('--from <address>', 'the envelope sender', 'test@mailrepo.invalid')
  .option('--smtp', 'deliver to the SMTP journaling listener instead of LMTP')
  .option('--host <host>', 'the listener (default: from the configuration)')
  .option('--port <port>', 'its port (default: from the configuration)')
  .option('--ca <pem>', "the listener certificate's CA (default: the configured LMTP certificate)")
  .option('--user <id>', 'ingest credential id (AUTH PLAIN)')
  .option('--password <secret>', 'ingest credential secret')
  .option('--no-tls', 'plain connection (development only)')
  .action(
    async (
      file: string | undefined,
      opts: {
        to: string;
        from: string;
        smtp?: boolean;
        host?: string;
        port?: string;
        ca?: string;
        user?: string;
        password?: string;
        tls: boolean;
      },
    ) => {
      const cfg = config();
      if (!opts.tls && cfg.NODE_ENV === 'production')
        throw new Error('--no-tls is refused in production');
      const target = configuredTarget(cfg, opts.smtp ? 'smtp' : 'lmtp');
      const raw = file
        ? readFileSync(file)
        : Buffer.from(
            `From: <${opts.from}>\r\nTo: <${opts.to}>\r\nSubject: mailrepo Testmail ${new Date().toISOString()}\r\n` +
              `Message-ID: <${randomUUID()}@mailrepo.invalid>\r\nDate: ${new Date().toUTCString()}\r\n` +
              'Content-Type: text/plain; charset=utf-8\r\n\r\nEine Testmail von `mailrepo send`.\r\n',
          );
      const transport = ingestTransport({
        ...target,
        ...(opts.host ? { host: opts.host } : {}),
        ...(opts.port ? { port: Number(opts.port) } : {}),
        ...(opts.ca ? { ca: readFileSync(opts.ca, 'utf8') } : {}),
        ...(opts.tls ? {} : { noTls: true }),
        ...(opts.user ? { auth: { user: opts.user, pass: opts.password ?? '' } } : {}),
      });
      try {
        const r = await sendRaw(transport, { from: opts.from, to: [opts.to], raw });
        console.log(r.response);
        if (!r.accepted.length) process.exitCode = 1;
      } catch (e) {
        console.error(`not delivered: ${e instanceof Error ? e.message : String(e)}`);
        process.exitCode = 1;
      } finally {
        transport.close();
      }
    },
  );

program
  .command('demo')
  .description(
    'development only: a tenant with a realistic mailbox delivered over LMTP; prints how to sign in',
  )
  .option('--mails <n>', 'how many mails', '300')
  .option('--name <name>', 'the demo customer')
  .action((opts: { mails: string; name?: string }) =>
    withDb(async (db) => {
      const cfg = config();
      const demo = await seedDemo(db, cfg, {
        mails: Number(opts.mails),
        name: opts.name,
        actor: operator(),
        progress: (n) => n % 50 === 0 && console.log(`  ${n} mails delivered…`),
      });
      console.log(
        `Demo tenant ${demo.tenantId}: ${demo.mails} mails delivered to ${demo.ingestAddress}.`,
      );
      console.log(`Sign in at ${demo.signIn}`);
      console.log(`  e-mail:   ${demo.email}`);
      console.log(`  password: ${demo.password}`);
      console.log(`  recovery key (keep it): ${demo.recoveryKey}`);
      console.log(
        'At the first sign-in you set up a second factor (an authenticator app or a passkey).',
      );
    }),
  );

const evidence = program
  .command('evidence')
  .description("the anchor checkpoints' RFC 4998 evidence records and their renewal");
evidence
  .command('status')
  .description('records per TSA: how many, renewed, due, failed, and the soonest certificate end')
  .action(() =>
    withDb(async (db) => {
      const rows = await evidenceStatus(db, config().EVIDENCE_RENEWAL_DAYS);
      const table = new Table({
        head: ['TSA', 'records', 'renewed', 'due', 'failed', 'soonest end'],
      });
      for (const r of rows)
        table.push([r.tsa, r.records, r.renewed, r.due, r.failed, r.soonestEnd ?? '-']);
      console.log(table.toString());
    }),
  );
evidence
  .command('renew')
  .description(
    'start a renewal run now; with --hash-to, a hash-tree renewal of every record to that algorithm',
  )
  .option('--hash-to <algorithm>', 'sha512 or sha3-512 (RFC 4998 §5.3)')
  .action(async (opts: { hashTo?: string }) => {
    if (opts.hashTo !== undefined && opts.hashTo !== 'sha512' && opts.hashTo !== 'sha3-512')
      throw new Error('--hash-to must be sha512 or sha3-512');
    const cfg = config();
    const client = await connectTemporal(cfg);
    try {
      const workflowId = `evidence-renewal-${new Date().toISOString()}`;
      await startWorkflow(client, 'renewEvidence', {
        taskQueue: cfg.TEMPORAL_TASK_QUEUE,
        workflowId,
        args: [{ trigger: 'operator', ...(opts.hashTo ? { hashTo: opts.hashTo } : {}) }],
      });
      console.log(`started ${workflowId}; follow it with: mailrepo evidence status`);
    } finally {
      await client.connection.close();
    }
  });

program.parseAsync().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(2);
});

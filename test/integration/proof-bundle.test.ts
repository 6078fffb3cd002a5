import { auditLedgerKeyCreated } from '../../lib/audit/ledger-keys';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { tsaRootsPem } from '../../lib/config';
import { withTenant } from '../../lib/db/tenant-scope';
import { generateSigningKey, signCheckpoint, verifierKey } from '../../lib/ledger/checkpoint';
import { checkpointRound } from '../../lib/checkpoint/round';
import { appendEntry } from '../../lib/ledger/store';
import { BundleFile, evidenceFile } from '../../lib/proof/bundle-layout';
import { buildProofBundle, ProofUnavailableError } from '../../lib/proof/build-bundle';
import { evidenceRecord } from '../../lib/evidence/evidence-record';
import { formatTlogProof, parseTlogProof } from '../../lib/proof/tlog-proof';
import { BundleVerifyError, verifyBundle } from '../../lib/proof/verify-bundle';
import { requestTimestamp, tokenOf } from '../../lib/tsa/client';
import { OID } from '../../lib/pki/oids';
import { tenantWithLog } from '../helpers/ledger';
import { bouncyCastleVerdict } from '../helpers/bouncycastle';
import { DAY, testTsa } from '../helpers/evidence-pki';
import { dueEvidence, renewEvidence } from '../../lib/ledger/anchor-evidence';
import { createTsaServer } from '../../lib/tsa/server';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { renderVerifyHtml } from '../../lib/proof/verify-html';
import { launchChromium } from '../helpers/browser';
import { ownDatabase } from '../helpers/own-database';
import { firstTsa, stackConfig, stackTsas } from '../helpers/stack-env';

// Each tampering is judged by four verifiers (library, verify.py with openssl, the CLI, verify.html
// in Chromium): seconds each on a slow CI machine, past Jest's 5 s default.
jest.setTimeout(60_000);

const cfg = stackConfig();
const wrapKey = Buffer.from(cfg.LEDGER_KEY_WRAP_KEY, 'base64');
const caPem = () => tsaRootsPem(cfg);
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();
const round = (db: ReturnType<typeof own.db>) =>
  checkpointRound({
    db,
    wrapKey,
    originPrefix: cfg.LEDGER_ORIGIN,
    onKeyCreated: auditLedgerKeyCreated,
    tsa: stackTsas(cfg),
  });

const own = ownDatabase(cfg, 'proof');
const ownUrl = own.url;

const mailText = (n: number) =>
  Buffer.from(
    `From: Buchhaltung <buchhaltung@kunde.example>\r\nTo: chef@kunde.example\r\n` +
      `Subject: Rechnung ${n} – Grüße\r\nMessage-ID: <${n}@kunde.example>\r\n\r\nAnbei die Rechnung ${n}.\r\n`,
  );

type Files = Record<string, Uint8Array>;
const rezip = (files: Files) => zipSync(files);

/** The bundle unpacked into a fresh directory outside the project, with the mail beside it. */
function unpack(zip: Uint8Array, mail: Uint8Array): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailrepo-bundle-'));
  for (const [name, bytes] of Object.entries(unzipSync(zip))) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), bytes);
  }
  writeFileSync(path.join(dir, 'mail.eml'), mail);
  return dir;
}

/** verify.py as a customer runs it: in the unpacked bundle, nothing but python3 and openssl. */
function runScript(zip: Uint8Array, mail: Uint8Array, args: string[] = []) {
  const dir = unpack(zip, mail);
  try {
    const r = spawnSync('python3', ['verify.py', 'mail.eml', ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH!, HOME: dir },
      encoding: 'utf8',
    });
    return { status: r.status, out: r.stdout + r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs the numbered steps of VERIFY.md in the unpacked bundle, each checked as a customer reads
 * its output; returns the number of the first step that does not hold (undefined: all hold).
 */
function verifyMd(
  zip: Uint8Array,
  mail: Uint8Array,
): { failing?: string; outputs: Record<string, string> } {
  const dir = unpack(zip, mail);
  try {
    const md = readFileSync(path.join(dir, BundleFile.instructions), 'utf8');
    const rootLine = (f: string) => readFileSync(path.join(dir, f), 'utf8').split('\n')[2];
    const holds: Record<string, (out: string) => boolean> = {
      '1': (o) => o.includes('mail.eml: OK'),
      '2': (o) => o.includes('Signature Verified Successfully'),
      '3': (o) => o.trim() === rootLine(BundleFile.tenantCheckpoint),
      '4': (o) => o.includes('Signature Verified Successfully'),
      '5': (o) => o.trim() === rootLine(BundleFile.anchorCheckpoint),
      '6': (o) => /Verification: OK[\s\S]*Time stamp: /.test(o),
      '7': (o) => o.includes('Verification: OK'),
    };
    const steps = md.split(/^\*\*(\d)\. /m).slice(1);
    const outputs: Record<string, string> = {};
    for (let i = 0; i < steps.length; i += 2) {
      const n = steps[i]!;
      const commands = steps[i + 1]!.split('\n')
        .filter((l) => l.startsWith('    '))
        .map((l) => l.slice(4))
        .join('\n');
      const r = spawnSync('bash', ['-euo', 'pipefail', '-c', commands], {
        cwd: dir,
        encoding: 'utf8',
      });
      outputs[n] = r.stdout + r.stderr;
      if (r.status !== 0 || !holds[n]!(r.stdout)) return { failing: n, outputs };
    }
    expect(Object.keys(outputs)).toEqual(Object.keys(holds));
    return { outputs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `mailrepo verify` as a customer runs it: exit status and output. */
function runCli(zip: Uint8Array, mail: Uint8Array, args: string[] = []) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailrepo-cli-'));
  try {
    writeFileSync(path.join(dir, 'bundle.zip'), zip);
    writeFileSync(path.join(dir, 'mail.eml'), mail);
    const bin = path.join(__dirname, '../../bin/mailrepo.cjs');
    const r = spawnSync('node', [bin, 'verify', 'bundle.zip', 'mail.eml', ...args], {
      cwd: dir,
      encoding: 'utf8',
    });
    return { status: r.status, out: r.stdout + r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The Go reference verifier (built once, beforeAll): exit status and output. */
let goVerifier = '';
function runGo(zip: Uint8Array, mail: Uint8Array) {
  const dir = unpack(zip, mail);
  try {
    const r = spawnSync(goVerifier, [dir, path.join(dir, 'mail.eml')], { encoding: 'utf8' });
    return { status: r.status, out: r.stdout + r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * verify.html as an auditor uses it (issue 23 §4): rendered for the bundle's files (a tampered
 * bundle's own), opened from disk in Chromium with every network request refused, the mail chosen
 * in the page; returns the verdict, the failing step and each step's state.
 */
let browser: Browser | undefined;
async function runHtml(
  zip: Uint8Array,
  mail: Uint8Array,
  opts: { at?: Date; tsaRoots?: string } = {},
) {
  browser ??= await launchChromium();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailrepo-html-'));
  const context = await browser.newContext();
  try {
    writeFileSync(path.join(dir, 'verify.html'), renderVerifyHtml(unzipSync(zip)));
    writeFileSync(path.join(dir, 'mail.eml'), mail);
    const requests: string[] = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      requests.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(path.join(dir, 'verify.html')).href);
    // The trust anchors and the date sit in a closed <details>, as the auditor finds them.
    if (opts.at || opts.tsaRoots) await page.locator('details summary').click();
    if (opts.at) await page.fill('#at', opts.at.toISOString().slice(0, 10));
    if (opts.tsaRoots) await page.fill('#tsa-roots', opts.tsaRoots);
    await page.setInputFiles('#mail', path.join(dir, 'mail.eml'));
    await page.locator('#verdict[data-done="true"]').waitFor({ timeout: 30_000 });
    const verdict = page.locator('#verdict');
    return {
      result: await verdict.getAttribute('data-result'),
      step: await verdict.getAttribute('data-step'),
      text: (await page.locator('#steps').textContent()) ?? '',
      steps: await page
        .locator('#steps li')
        .evaluateAll((lis) =>
          lis.map((li) => [li.getAttribute('data-step'), li.getAttribute('data-ok')]),
        ),
      requests,
      errors,
    };
  } finally {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
afterAll(() => browser?.close());

/**
 * A tampered bundle fails at `step` in every verifier a customer may use: the library, the
 * bundled script, the CLI (exit 1), the Go reference verifier (exit 1, at its own step name —
 * `go` undefined where it does not check that part) and VERIFY.md's commands (`md`: the first
 * step that does not hold; undefined where the tampered file is not among those it uses).
 */
async function expectStepFails(
  zip: Uint8Array,
  mail: Uint8Array,
  step: string,
  why: RegExp,
  also: { go?: string; md?: string } = {},
) {
  const err = await verifyBundle(zip, mail).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BundleVerifyError);
  expect((err as BundleVerifyError).step).toBe(step);
  expect((err as Error).message).toMatch(why);
  const script = runScript(zip, mail);
  expect(script.status).toBe(1);
  expect(script.out).toContain(`FAILED: ${step}:`);
  const cli = runCli(zip, mail);
  expect({ status: cli.status, failed: cli.out.includes(`FAILED: ${step}:`) }).toEqual({
    status: 1,
    failed: true,
  });
  const go = runGo(zip, mail);
  if (also.go)
    expect({ status: go.status, failed: go.out.includes(`FAILED: ${also.go}`) }).toEqual({
      status: 1,
      failed: true,
    });
  else expect({ status: go.status, out: go.out }).toMatchObject({ status: 0 });
  expect(verifyMd(zip, mail).failing).toBe(also.md);
  const html = await runHtml(zip, mail);
  expect({ result: html.result, step: html.step, errors: html.errors }).toEqual({
    result: 'failed',
    step,
    errors: [],
  });
}

describe('proof bundles', () => {
  let db: ReturnType<typeof own.db>;
  /** The first anchor checkpoint: genuine and signed, but not the one any proof here names. */
  const oldestAnchorCheckpoint = () =>
    db
      .selectFrom('ledger_checkpoints')
      .select('note')
      .where('tenant_id', 'is', null)
      .orderBy('size', 'asc')
      .executeTakeFirstOrThrow();
  let tenantId: string;
  let mail: Buffer;
  let zip: Uint8Array;

  beforeAll(async () => {
    goVerifier = path.join(mkdtempSync(path.join(os.tmpdir(), 'mailrepo-go-')), 'go-verifier');
    execFileSync('go', ['build', '-o', goVerifier, '.'], {
      cwd: path.join(__dirname, '../interop/go-verifier'),
      stdio: 'pipe',
    });
    db = own.db();
    const t = await tenantWithLog(db, cfg, 'Beweis GmbH');
    const other = await tenantWithLog(db, cfg, 'Nachbar AG');
    tenantId = t.tenantId;
    // Several rounds, two tenants: the proofs are at inner positions of both logs, and the
    // covering checkpoints are older than the newest ones.
    for (let r = 0; r < 3; r++) {
      await withTenant(db, tenantId, async (tx) => {
        for (let i = 0; i < 7; i++)
          await appendEntry(tx, t.log, sha256(mailText(r * 10 + i)), 'mail');
      });
      await withTenant(db, other.tenantId, (tx) =>
        appendEntry(tx, other.log, randomBytes(32), 'mail'),
      );
      await round(db);
    }
    mail = mailText(13);
    zip = (await buildProofBundle(db, { tenantId, entrySha256: sha256(mail), tsaCaPem: caPem() }))
      .zip;
  }, 240_000);

  it('verifies with mailrepo verify, naming every step', async () => {
    const v = await verifyBundle(zip, mail);
    expect(v.report.map((l) => l.split(':')[0])).toEqual([
      'mail hash',
      'tenant checkpoint signature',
      'tenant inclusion proof',
      'anchor checkpoint signature',
      'anchor inclusion proof',
      'anchor checkpoint file',
      'RFC 3161 timestamp',
      'evidence record',
    ]);
    // Round 1: mails 0–6, then the tenant's audit chain head (7); round 2: mails 8–14.
    expect(v.manifest.tenantLog).toMatchObject({ index: 11, checkpointSize: 15 });
    // Both dev TSAs (own roots) timestamped the anchor checkpoint: two evidence records.
    expect(v.manifest.evidence!.map((e) => [e.file, e.timestamps, e.chains])).toEqual([
      ['evidence/1.ers', 1, 1],
      ['evidence/2.ers', 1, 1],
    ]);
    expect(new Set(v.manifest.evidence!.map((e) => e.tsa)).size).toBe(2);
    expect(v.report.at(-1)).toMatch(/evidence record: 2 of 2 hold/);
    // Two TSA roots are among what was taken from the bundle.
    expect(v.trustedFromBundle).toHaveLength(4);
  });

  it('verifies with the bundled stdlib-only script and openssl, outside the project', () => {
    const r = runScript(zip, mail);
    expect(r.out).toContain('VERIFIED');
    expect(r.status).toBe(0);
  });

  it('verifies in a browser with verify.html alone, offline, every step named as the CLI names it', async () => {
    const r = await runHtml(zip, mail);
    expect(r.errors).toEqual([]);
    expect(r.requests).toEqual([]);
    // On failure, the step and the page's own words say why.
    expect({ result: r.result, step: r.step, text: r.text }).toEqual({
      result: 'verified',
      step: r.step,
      text: r.text,
    });
    expect(r.steps).toEqual(
      (await verifyBundle(zip, mail)).report.map((l) => [l.split(':')[0], 'true']),
    );
    expect(r.text).toMatch(/evidence record: 2 of 2 hold/);
    // The bundle carries it, with the bundle's own files inside.
    expect(strFromU8(unzipSync(zip)[BundleFile.html]!)).toContain('"anchor-checkpoint.tsr"');
  }, 60_000);

  it('verifies with exactly the openssl commands written in VERIFY.md', () => {
    const { failing, outputs } = verifyMd(zip, mail);
    expect(failing).toBeUndefined();
    expect(outputs['6']).toMatch(/Time stamp: /);
  });

  it('verifies with the Go reference implementations of signed notes and RFC 9162 proofs', () => {
    const ok = runGo(zip, mail);
    expect(ok).toEqual({ status: 0, out: expect.stringContaining('VERIFIED') });
  });

  it('verifies with the mailrepo CLI, and fails there with exit code 1', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mailrepo-cli-'));
    try {
      writeFileSync(path.join(dir, 'bundle.zip'), zip);
      writeFileSync(path.join(dir, 'mail.eml'), mail);
      const bin = path.join(__dirname, '../../bin/mailrepo.cjs');
      const ok = spawnSync('node', [bin, 'verify', 'bundle.zip', 'mail.eml'], {
        cwd: dir,
        encoding: 'utf8',
      });
      expect(ok.stdout).toContain('VERIFIED');
      expect(ok.status).toBe(0);
      writeFileSync(path.join(dir, 'mail.eml'), Buffer.concat([mail, Buffer.from(' ')]));
      const bad = spawnSync('node', [bin, 'verify', 'bundle.zip', 'mail.eml'], {
        cwd: dir,
        encoding: 'utf8',
      });
      expect(bad.stdout).toContain('FAILED: mail hash:');
      expect(bad.status).toBe(1);
      // The keys a customer pins come from `mailrepo ledger keys` (and the portal).
      const keys = spawnSync('node', [bin, 'ledger', 'keys', '--tenant', tenantId], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, DATABASE_URL: ownUrl },
      });
      const files = unzipSync(zip);
      expect(keys.stdout).toContain(`tenant\t${strFromU8(files[BundleFile.tenantKey]!).trim()}`);
      expect(keys.stdout).toContain(`anchor\t${strFromU8(files[BundleFile.anchorKey]!).trim()}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('fails at "mail hash" for a changed byte in the mail', async () => {
    const changed = Buffer.from(mail);
    changed.writeUInt8(changed.readUInt8(changed.length - 5) ^ 0x01, changed.length - 5);
    await expectStepFails(zip, changed, 'mail hash', /is not the archived/, {
      go: 'tenant inclusion',
      md: '1',
    });
  });

  it('fails at "tenant inclusion proof" for a changed proof line', async () => {
    const files: Files = unzipSync(zip);
    const proof = parseTlogProof(strFromU8(files[BundleFile.tenantProof]!));
    proof.proof[1] = randomBytes(32);
    files[BundleFile.tenantProof] = strToU8(formatTlogProof(proof));
    // VERIFY.md carries its own copy of the proof in its commands: the file is not among its inputs.
    await expectStepFails(rezip(files), mail, 'tenant inclusion proof', /not at index 11 /, {
      go: 'tenant inclusion',
    });
  });

  it('fails at "anchor inclusion proof" for a changed anchor proof line', async () => {
    const files: Files = unzipSync(zip);
    const text = strFromU8(files[BundleFile.anchorProof]!).split('\n');
    text[2] = randomBytes(32).toString('base64');
    files[BundleFile.anchorProof] = strToU8(text.join('\n'));
    await expectStepFails(rezip(files), mail, 'anchor inclusion proof', /root|longer|short/, {
      go: 'anchor',
    });
  });

  it('fails at "tenant checkpoint signature" for a checkpoint signed by another key', async () => {
    const files: Files = unzipSync(zip);
    const proof = parseTlogProof(strFromU8(files[BundleFile.tenantProof]!));
    const [origin, size, root] = proof.checkpoint.split('\n');
    const other = generateSigningKey();
    const forged = signCheckpoint(
      { origin: origin!, size: Number(size), root: Buffer.from(root!, 'base64') },
      origin!,
      other.privateKey,
      other.publicKey,
    );
    files[BundleFile.tenantProof] = strToU8(formatTlogProof({ ...proof, checkpoint: forged }));
    files[BundleFile.tenantCheckpoint] = strToU8(forged);
    await expectStepFails(rezip(files), mail, 'tenant checkpoint signature', /not signed by/, {
      go: 'tenant signature',
      md: '2',
    });

    // A forger who also swaps the key file is caught by the key the customer pins.
    const keyFiles = { ...files };
    const genuineKey = strFromU8(files[BundleFile.tenantKey]!).trim();
    keyFiles[BundleFile.tenantKey] = strToU8(
      `${verifierKey({ name: origin!, publicKey: other.publicKey })}\n`,
    );
    // The anchor log never saw the forged note, so even unpinned it fails further on.
    await expect(verifyBundle(rezip(keyFiles), mail)).rejects.toMatchObject({
      step: 'anchor inclusion proof',
    });
    await expect(
      verifyBundle(rezip(keyFiles), mail, { tenantKey: genuineKey }),
    ).rejects.toMatchObject({ step: 'tenant checkpoint signature' });
    const script = runScript(rezip(keyFiles), mail, ['--tenant-key', genuineKey]);
    expect(script.out).toContain('FAILED: tenant checkpoint signature:');
  });

  it('fails at "tenant checkpoint signature" for a changed signature byte', async () => {
    const files: Files = unzipSync(zip);
    const proof = parseTlogProof(strFromU8(files[BundleFile.tenantProof]!));
    const lines = proof.checkpoint.split('\n');
    const sigLine = lines[4]!;
    const [dash, name, b64] = sigLine.split(' ');
    const raw = Buffer.from(b64!, 'base64');
    raw.writeUInt8(raw.readUInt8(40) ^ 0x80, 40);
    lines[4] = `${dash} ${name} ${raw.toString('base64')}`;
    proof.checkpoint = lines.join('\n');
    files[BundleFile.tenantProof] = strToU8(formatTlogProof(proof));
    // VERIFY.md checks the signature of tenant-checkpoint.txt, which is untouched here.
    await expectStepFails(rezip(files), mail, 'tenant checkpoint signature', /invalid/, {
      go: 'tenant signature',
    });
  });

  it("fails VERIFY.md's own steps for a changed hash in its tenant or anchor commands", () => {
    const files: Files = unzipSync(zip);
    const md = strFromU8(files[BundleFile.instructions]!);
    const siblings = [...md.matchAll(/echo '([A-Za-z0-9+/=]{44})' \| base64 -d/g)];
    expect(siblings.length).toBeGreaterThan(2);
    const flip = (b64: string) => {
      const raw = Buffer.from(b64, 'base64');
      raw[0] = raw[0]! ^ 0x01;
      return raw.toString('base64');
    };
    // The first sibling belongs to the tenant proof (step 3), the last to the anchor proof (5).
    for (const [m, step] of [
      [siblings[0]!, '3'],
      [siblings.at(-1)!, '5'],
    ] as const) {
      const forged =
        md.slice(0, m.index) + m[0].replace(m[1]!, flip(m[1]!)) + md.slice(m.index! + m[0].length);
      const tampered = rezip({ ...files, [BundleFile.instructions]: strToU8(forged) });
      expect(verifyMd(tampered, mail).failing).toBe(step);
    }
  });

  it('fails at "anchor checkpoint signature" for a changed signature byte of the anchor checkpoint', async () => {
    const files: Files = unzipSync(zip);
    const lines = strFromU8(files[BundleFile.anchorCheckpoint]!).split('\n');
    const at = lines.findIndex((l) => l.startsWith('\u2014 '));
    const [dash, name, b64] = lines[at]!.split(' ');
    const raw = Buffer.from(b64!, 'base64');
    raw.writeUInt8(raw.readUInt8(40) ^ 0x80, 40);
    lines[at] = `${dash} ${name} ${raw.toString('base64')}`;
    const forged = lines.join('\n');
    files[BundleFile.anchorCheckpoint] = strToU8(forged);
    const proof = parseTlogProof(strFromU8(files[BundleFile.anchorProof]!));
    files[BundleFile.anchorProof] = strToU8(formatTlogProof({ ...proof, checkpoint: forged }));
    await expectStepFails(rezip(files), mail, 'anchor checkpoint signature', /invalid/, {
      go: 'anchor signature',
      md: '4',
    });
  });

  it('fails at "anchor checkpoint file" when the file is not the checkpoint the proof names', async () => {
    const files: Files = unzipSync(zip);
    const text = strFromU8(files[BundleFile.anchorCheckpoint]!);
    // Still a correctly signed anchor checkpoint, but an older one: it is not what was proven.
    const older = await oldestAnchorCheckpoint();
    expect(older.note).not.toBe(text);
    files[BundleFile.anchorCheckpoint] = strToU8(older.note);
    await expectStepFails(rezip(files), mail, 'anchor checkpoint file', /differs|not the/, {
      go: 'anchor:',
      md: '5',
    });
  });

  it('fails at "RFC 3161 timestamp" and "evidence record" for a token over another checkpoint', async () => {
    const files: Files = unzipSync(zip);
    // A genuine token from the same TSA, over a different (older) checkpoint note.
    const older = await oldestAnchorCheckpoint();
    const foreign = await requestTimestamp(Buffer.from(older.note), {
      ...firstTsa(cfg),
    });
    const withTsr = { ...files, [BundleFile.timestampResponse]: foreign.responseDer };
    await expectStepFails(rezip(withTsr), mail, 'RFC 3161 timestamp', /other data/, { md: '6' });
    // Every TSA's record replaced by one over the other checkpoint: none holds.
    const foreignRecord = evidenceRecord(tokenOf(foreign.responseDer));
    const withErs = {
      ...files,
      [evidenceFile(1)]: foreignRecord,
      [evidenceFile(2)]: foreignRecord,
    };
    await expectStepFails(rezip(withErs), mail, 'evidence record', /other data/, { md: '7' });
    // One of the two replaced: the other holds, and the report names the one that does not.
    const oneForged = await verifyBundle(
      rezip({ ...files, [evidenceFile(2)]: foreignRecord }),
      mail,
    );
    expect(oneForged.report.at(-1)).toMatch(
      /evidence record: 1 of 2 hold .*evidence\/1\.ers holds .*evidence\/2\.ers does not hold: .*other data/,
    );
    const script = runScript(rezip({ ...files, [evidenceFile(1)]: foreignRecord }), mail);
    expect(script.out).toMatch(
      /OK {3}evidence record: 1 of 2 hold .*evidence\/1\.ers does not hold/,
    );
    expect(script.status).toBe(0);
  }, 30_000);

  it('fails at "RFC 3161 timestamp" against a TSA root the customer pins', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mailrepo-ca-'));
    try {
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
        '-subj', '/CN=Another TSA Root', '-keyout', path.join(dir, 'k.pem'),
        '-out', path.join(dir, 'root.pem'), '-days', '2',
      ], { stdio: 'pipe' }); // prettier-ignore
      const otherRoot = readFileSync(path.join(dir, 'root.pem'), 'utf8');
      await expect(verifyBundle(zip, mail, { tsaRootPem: otherRoot })).rejects.toMatchObject({
        step: 'RFC 3161 timestamp',
      });
      const script = runScript(zip, mail, ['--tsa-root', path.join(dir, 'root.pem')]);
      expect(script.out).toContain('FAILED: RFC 3161 timestamp:');
      const html = await runHtml(zip, mail, { tsaRoots: otherRoot });
      expect([html.result, html.step]).toEqual(['failed', 'RFC 3161 timestamp']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('outlives its TSA certificates: judged after they end it fails unrenewed and holds renewed', async () => {
    // Eleven years on, both dev TSAs' ten-year certificates have ended.
    const later = new Date(Date.now() + 11 * 365 * DAY);
    const unrenewed = await verifyBundle(zip, mail, { at: later }).then(
      () => undefined,
      (e: unknown) => e as BundleVerifyError,
    );
    expect(unrenewed).toMatchObject({ step: 'evidence record' });
    expect(unrenewed!.message).toMatch(/no evidence record holds .*not trusted on/);
    const atLater = ['--at', later.toISOString()];
    expect(runScript(zip, mail, atLater).out).toContain('FAILED: evidence record:');
    expect(runCli(zip, mail, atLater).status).toBe(1);
    const htmlUnrenewed = await runHtml(zip, mail, { at: later });
    expect([htmlUnrenewed.result, htmlUnrenewed.step]).toEqual(['failed', 'evidence record']);

    // A TSA whose certificate lasts twenty years renews every record today (RFC 4998 §5.2).
    const renewer = await testTsa('Verlängerungs-TSA', 7300);
    const server = createTsaServer({ signer: renewer.signer });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const roots = caPem() + renewer.caPem;
      const settings = {
        tsas: [{ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/tsa` }],
        rootsPem: roots,
        windowDays: 3700,
        distrusted: new Set<string>(),
      };
      const due = await dueEvidence(db, settings, 1000, new Date());
      expect(due.length).toBeGreaterThanOrEqual(2);
      for (const row of due) {
        const outcome = await renewEvidence(db, row, settings);
        const why = await db
          .selectFrom('anchor_evidence')
          .select('renewal_error')
          .where('log_id', '=', row.log_id)
          .where('size', '=', row.size)
          .where('tsa_url', '=', row.tsa_url)
          .executeTakeFirstOrThrow();
        expect({ outcome, why: why.renewal_error }).toEqual({ outcome: 'renewed', why: null });
      }
      // Renewed: not due any more; a second run renews nothing.
      expect(await dueEvidence(db, settings, 1000, new Date())).toEqual([]);
      // And a hash-tree renewal to SHA3-512 (RFC 4998 §5.3), which browsers compute without
      // Web Crypto's help.
      const sha3 = { ...settings, hashTo: OID.sha3_512 };
      for (const row of await dueEvidence(db, sha3, 1000, new Date()))
        expect(await renewEvidence(db, row, sha3)).toBe('renewed');

      const renewed = (
        await buildProofBundle(db, { tenantId, entrySha256: sha256(mail), tsaCaPem: roots })
      ).zip;
      const v = await verifyBundle(renewed, mail, { at: later });
      expect(v.manifest.evidence!.map((e) => [e.timestamps, e.chains])).toEqual([
        [3, 2],
        [3, 2],
      ]);
      expect(v.report.at(-1)).toMatch(/2 of 2 hold .*2 renewal/);
      const script = runScript(renewed, mail, atLater);
      expect(script.out).toContain('VERIFIED');
      expect(script.status).toBe(0);
      expect(runCli(renewed, mail, atLater).status).toBe(0);
      const html = await runHtml(renewed, mail, { at: later });
      expect(html.result).toBe('verified');
      expect(html.text).toMatch(/2 of 2 hold .*2 renewal/);
      // BouncyCastle's RFC 4998 implementation accepts each renewed record.
      const files = unzipSync(renewed);
      for (const f of [evidenceFile(1), evidenceFile(2)])
        expect(bouncyCastleVerdict(files[f]!, files[BundleFile.anchorCheckpoint]!, later)).toBe(
          'VALID 3',
        );
    } finally {
      server.close();
    }
  }, 60_000);

  it('is not offered for an entry that is not yet timestamped, or not in the ledger', async () => {
    const t = await tenantWithLog(db, cfg, 'Frisch GmbH');
    const pending = randomBytes(32);
    await withTenant(db, t.tenantId, (tx) => appendEntry(tx, t.log, pending, 'mail'));
    await expect(
      buildProofBundle(db, { tenantId: t.tenantId, entrySha256: pending, tsaCaPem: caPem() }),
    ).rejects.toMatchObject({ reason: 'not-yet-timestamped' });
    // Another tenant's mail is not in this tenant's ledger (nor visible to it).
    await expect(
      buildProofBundle(db, { tenantId: t.tenantId, entrySha256: sha256(mail), tsaCaPem: caPem() }),
    ).rejects.toBeInstanceOf(ProofUnavailableError);
  });
});

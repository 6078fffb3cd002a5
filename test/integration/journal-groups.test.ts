import { createHash } from 'node:crypto';
import { LmtpClient } from '../../infra/lmtp-client';
import { withTenant } from '../../lib/db/tenant-scope';
import { arrivalsOf, withOtherArrivals } from '../../lib/ingest/journal-group';
import { setHold } from '../../lib/retention/holds';
import { archiveTenant, openArchiveContext, sha256 } from '../helpers/archive';
import { journalReport, original, REPORT_LINES } from '../helpers/journal-reports';
import { stackConfig } from '../helpers/stack-env';

/**
 * Issue 22 §2, decision 0029, at ingest through the real LMTP listener: several journal reports of
 * one original (and the original delivered as itself) are one logical mail — each arrival its own
 * row and evidence, the later ones pointing at the first, held wherever the first is held, and two
 * reports arriving at the same moment agreeing on which came first.
 */
const cfg = stackConfig();
const ADDRESS = 'journal@gruppen.example';

let ctx: Awaited<ReturnType<typeof openArchiveContext>>;
let tenant: Awaited<ReturnType<typeof archiveTenant>>;
beforeAll(async () => {
  ctx = await openArchiveContext(cfg);
  tenant = await archiveTenant(ctx, 'Journalgruppen', ADDRESS);
});
afterAll(() => ctx.close());

async function send(mails: Buffer[]) {
  const lmtp = await LmtpClient.connect(cfg.LMTP_PORT);
  try {
    for (const m of mails) {
      const d = await lmtp.send(m, 'journal@contoso.onmicrosoft.com', [ADDRESS]);
      expect(d.data[ADDRESS]).toMatch(/^250/);
    }
  } finally {
    lmtp.close();
  }
}

const rowOf = (mail: Buffer) =>
  withTenant(ctx.db, tenant.tenantId, (tx) =>
    tx
      .selectFrom('messages')
      .select(['id', 'logical_id', 'original_sha256'])
      .where('sha256', '=', sha256(mail))
      .executeTakeFirstOrThrow(),
  );

describe('one original, several arrivals', () => {
  it('groups the reports and the original itself under the first; holds follow the first', async () => {
    const subject = 'Vorstandsvorlage Dezember';
    const inner = original(subject, ' Nur für den Vorstand.');
    const first = journalReport({ subject, id: 'rule-1', attached: inner, encoding: 'base64' });
    await send([first]);
    const a = await rowOf(first);
    expect(a.logical_id).toBeNull();
    expect(a.original_sha256).toEqual(createHash('sha256').update(inner).digest());

    // A hold on the first arrival by a recipient only the first report lists.
    const hold = await setHold(
      ctx.db,
      { tenantId: tenant.tenantId, userId: tenant.adminUserId },
      { query: 'mailbox:erin@contoso.example', reason: 'Prüfung Vorstandsvorlage' },
      [a.id],
    );
    expect(hold.matched).toBe(1);

    // The second rule's report lists other recipients (no erin): it is still the same mail.
    const second = journalReport({
      subject,
      id: 'rule-2',
      lines: [`Subject: ${subject}`, 'Sender: alice@contoso.example', 'Bcc: heidi@contoso.example'],
      attached: inner,
      encoding: '7bit',
    });
    await send([second, inner]);
    const b = await rowOf(second);
    const plain = await rowOf(inner);
    expect(b.logical_id).toBe(a.id);
    expect(plain.logical_id).toBe(a.id);
    expect(plain.original_sha256).toBeNull();

    await withTenant(ctx.db, tenant.tenantId, async (tx) => {
      const held = await tx
        .selectFrom('legal_hold_messages')
        .select('message_id')
        .where('hold_id', '=', hold.holdId)
        .execute();
      expect(held.map((h) => h.message_id).sort()).toEqual([a.id, b.id, plain.id].sort());
      const count = await tx
        .selectFrom('legal_holds')
        .select('matched')
        .where('id', '=', hold.holdId)
        .executeTakeFirstOrThrow();
      expect(count.matched).toBe(3);
      expect((await arrivalsOf(tx, b.id)).map((r) => r.id)).toEqual([a.id, b.id, plain.id]);
      expect((await withOtherArrivals(tx, [plain.id])).sort()).toEqual(
        [a.id, b.id, plain.id].sort(),
      );
    });
  });

  it('two reports of a new original arriving at once agree on the first', async () => {
    const subject = 'Gleichzeitig journalisiert';
    const inner = original(subject);
    const reports = [1, 2, 3].map((n) =>
      journalReport({
        subject,
        id: `parallel-${n}`,
        lines: [
          `Subject: ${subject}`,
          ...REPORT_LINES.slice(0, 3),
          `Bcc: person${n}@contoso.example`,
        ],
        attached: inner,
        encoding: 'base64',
      }),
    );
    await Promise.all(reports.map((r) => send([r])));
    const rows = await Promise.all(reports.map(rowOf));
    const firsts = rows.filter((r) => r.logical_id === null);
    expect(firsts).toHaveLength(1);
    for (const r of rows) if (r !== firsts[0]) expect(r.logical_id).toBe(firsts[0]!.id);
  });
});

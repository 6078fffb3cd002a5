import MailComposer from 'nodemailer/lib/mail-composer';
import type Mail from 'nodemailer/lib/mailer';
import PDFDocument from 'pdfkit';

/**
 * A realistic mailbox for `mailrepo demo` (issue 25 §4): a small tax office and its contacts, in
 * German and English — threads with replies, invoices as PDF, spreadsheets as CSV, meeting notes,
 * a forwarded mail, HTML newsletters — spread over the last twelve months. Deterministic for a
 * seed, so a demo looks the same each time. MIME is built by nodemailer's MailComposer.
 */

export interface DemoMail {
  from: string;
  to: string[];
  subject: string;
  raw: Buffer;
}

interface Person {
  name: string;
  address: string;
}

/** A small deterministic random source (mulberry32). */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, pick: <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]! };
}

const STAFF = [
  ['Katharina Müller', 'k.mueller'],
  ['Jürgen Weiß', 'j.weiss'],
  ['Sophie Schröder', 's.schroeder'],
  ['Mehmet Yılmaz', 'm.yilmaz'],
  ['Anna Becker', 'a.becker'],
  ['Lukas Hoffmann', 'l.hoffmann'],
] as const;

const CLIENTS: Person[] = [
  { name: 'Bäckerei Sonnenschein', address: 'buchhaltung@baeckerei-sonnenschein.example' },
  { name: 'Elektro Krüger GmbH', address: 'info@elektro-krueger.example' },
  { name: 'Dr. Petra Lange', address: 'praxis@dr-lange.example' },
  { name: 'Nordlicht Logistics Ltd', address: 'accounts@nordlicht-logistics.example' },
  { name: 'Café Görlitzer Eck', address: 'kontakt@goerlitzer-eck.example' },
  { name: 'Finanzamt Mitte', address: 'poststelle@finanzamt-mitte.example' },
];

const TOPICS_DE: readonly (readonly [string, string])[] = [
  [
    'Jahresabschluss {year}',
    'anbei die Unterlagen für den Jahresabschluss. Bitte prüfen Sie die Belege bis Ende des Monats.',
  ],
  [
    'Umsatzsteuer-Voranmeldung {month}',
    'die Umsatzsteuer-Voranmeldung für {month} ist vorbereitet. Können Sie die Kassenbuchungen bestätigen?',
  ],
  [
    'Lohnabrechnung {month}',
    'die Lohnabrechnungen für {month} sind fertig. Zwei Mitarbeitende haben neue Steuerklassen.',
  ],
  [
    'Termin Betriebsprüfung',
    'das Finanzamt hat eine Betriebsprüfung angekündigt. Wir schlagen den Donnerstag um 10 Uhr vor.',
  ],
  [
    'Rückfrage zur Reisekostenabrechnung',
    'bei der Reisekostenabrechnung fehlt die Hotelrechnung aus Hamburg. Haben Sie sie noch?',
  ],
  [
    'Fristverlängerung Steuererklärung',
    'wir haben beim Finanzamt eine Fristverlängerung für die Steuererklärung beantragt.',
  ],
] as const;

const TOPICS_EN: readonly (readonly [string, string])[] = [
  [
    'Quarterly VAT return Q{quarter}',
    'please find the VAT figures for Q{quarter} attached. Could you confirm the intra-EU deliveries?',
  ],
  [
    'Invoice query',
    'we noticed that invoice {invoice} lists the freight twice. Could you send a corrected invoice?',
  ],
  [
    'Transfer pricing documentation',
    'the auditors asked for the transfer pricing documentation of last year. Is it ready?',
  ],
] as const;

const REPLIES_DE = [
  'vielen Dank, wir kümmern uns darum und melden uns bis Freitag.',
  'das passt so. Die Belege liegen im Ordner „Buchhaltung“.',
  'kurze Rückfrage: Ist der Betrag brutto oder netto?',
  'erledigt – die Korrektur ist eingebucht.',
];
const REPLIES_EN = [
  'thank you, we will look into it and get back to you by Friday.',
  'confirmed – the corrected figures are in the shared folder.',
  'one question: does the amount include VAT?',
];

const MONTHS = [
  'Januar',
  'Februar',
  'März',
  'April',
  'Mai',
  'Juni',
  'Juli',
  'August',
  'September',
  'Oktober',
  'November',
  'Dezember',
];

function invoicePdf(number: string, client: string, amount: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ size: 'A4', info: { Title: `Rechnung ${number}` } });
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    doc.fontSize(18).text(`Rechnung ${number}`);
    doc.moveDown().fontSize(11).text(`An: ${client}`);
    doc.text(`Leistung: Steuerberatung und Buchhaltung`);
    doc.text(`Betrag: ${amount} EUR zzgl. 19 % Umsatzsteuer`);
    doc.text('Zahlbar innerhalb von 14 Tagen ohne Abzug.');
    doc.end();
  });
}

const newsletterHtml = (
  n: number,
  month: string,
) => `<!doctype html><html><body style="font-family:sans-serif">
<h1>Steuer-Newsletter ${month}</h1>
<p><img src="https://newsletter.branchenverband.example/logo.png" alt="Logo" width="120"></p>
<h2>Neue Grenzen für geringwertige Wirtschaftsgüter</h2>
<p>Ab dem kommenden Jahr gelten neue Grenzen. Lesen Sie mehr in Ausgabe ${n}:
<a href="https://newsletter.branchenverband.example/ausgabe/${n}">Zum Artikel</a></p>
<h2>E-Rechnung: Was Unternehmen jetzt wissen müssen</h2>
<p>Die Pflicht zur elektronischen Rechnung kommt schrittweise. Wir erklären die Fristen.</p>
</body></html>`;

/** `count` mails for the tenant whose staff write from `domain`, newest last. */
export async function demoMailbox(opts: {
  domain: string;
  count: number;
  seed?: number;
  now?: Date;
}): Promise<DemoMail[]> {
  const r = random(opts.seed ?? 2026);
  const now = (opts.now ?? new Date()).getTime();
  const staff: Person[] = STAFF.map(([name, local]) => ({
    name,
    address: `${local}@${opts.domain}`,
  }));
  const fmt = (p: Person) => `"${p.name}" <${p.address}>`;
  const out: DemoMail[] = [];
  const dateAt = (i: number) =>
    new Date(now - (opts.count - i) * ((365 * 86_400_000) / Math.max(opts.count, 1)));
  let threadOf:
    { subject: string; ids: string[]; people: [Person, Person]; en: boolean } | undefined;
  let forwardable: { raw: Buffer; subject: string } | undefined;

  for (let i = 0; out.length < opts.count; i++) {
    const date = dateAt(out.length);
    const month = MONTHS[date.getUTCMonth()]!;
    const messageId = `<demo-${i}-${opts.seed ?? 2026}@${opts.domain}>`;
    const kind = i % 23 === 7 ? 'newsletter' : i % 31 === 11 && forwardable ? 'forward' : 'work';
    let mail: Mail.Options;
    if (kind === 'newsletter') {
      mail = {
        from: '"Branchenverband Steuern" <newsletter@branchenverband.example>',
        to: fmt(r.pick(staff)),
        subject: `Steuer-Newsletter ${month} ${date.getUTCFullYear()}`,
        html: newsletterHtml(i, month),
        text: `Steuer-Newsletter ${month}: neue Grenzen für geringwertige Wirtschaftsgüter, E-Rechnung.`,
        headers: { 'List-Unsubscribe': '<mailto:abmelden@branchenverband.example>' },
      };
    } else if (kind === 'forward') {
      const who = r.pick(staff);
      mail = {
        from: fmt(who),
        to: fmt(r.pick(staff.filter((s) => s !== who))),
        subject: `WG: ${forwardable!.subject}`,
        text: 'Zur Info – bitte im Mandantenordner ablegen.\n',
        attachments: [
          {
            filename: 'weitergeleitet.eml',
            content: forwardable!.raw,
            contentType: 'message/rfc822',
          },
        ],
      };
    } else if (threadOf && threadOf.ids.length < 2 + Math.floor(r.next() * 4)) {
      // A reply in the running thread, quoting the previous message.
      const [a, b] = threadOf.people;
      const odd = threadOf.ids.length % 2 === 1;
      const body = r.pick(threadOf.en ? REPLIES_EN : REPLIES_DE);
      mail = {
        from: fmt(odd ? b : a),
        to: fmt(odd ? a : b),
        subject: `${threadOf.en ? 'Re' : 'AW'}: ${threadOf.subject}`,
        text: `${threadOf.en ? 'Dear' : 'Hallo'} ${(odd ? a : b).name.split(' ')[0]},\n\n${body}\n\n${threadOf.en ? 'Best regards' : 'Viele Grüße'}\n${(odd ? b : a).name}\n`,
        inReplyTo: threadOf.ids[threadOf.ids.length - 1],
        references: threadOf.ids.join(' '),
      };
    } else {
      // A new thread: a member of staff writes to a client (or the other way round).
      const en = r.next() < 0.25;
      const [title, text] = r.pick(en ? TOPICS_EN : TOPICS_DE);
      const vars: Record<string, string> = {
        year: String(date.getUTCFullYear() - 1),
        month,
        quarter: String(Math.floor(date.getUTCMonth() / 3) + 1),
        invoice: `2026-${String(100 + i).padStart(4, '0')}`,
      };
      const subject = title.replace(/\{(\w+)\}/g, (_, k: string) => vars[k]!);
      const member = r.pick(staff);
      const client = en ? CLIENTS[3]! : r.pick(CLIENTS.filter((c) => c !== CLIENTS[3]));
      const outgoing = r.next() < 0.6;
      const [a, b] = outgoing ? [member, client] : [client, member];
      const attachments: Mail.Attachment[] = [];
      if (i % 5 === 0)
        attachments.push({
          filename: `Rechnung-${vars.invoice}.pdf`,
          content: await invoicePdf(vars.invoice!, client.name, (120 + (i % 40) * 17.5).toFixed(2)),
          contentType: 'application/pdf',
        });
      if (i % 7 === 0)
        attachments.push({
          filename: `Umsatzliste-${month}.csv`,
          content: `Datum;Beleg;Betrag\n01.${String(date.getUTCMonth() + 1).padStart(2, '0')}.;R-${i};${(i * 13.7).toFixed(2)}\n`,
          contentType: 'text/csv',
        });
      if (i % 11 === 0)
        attachments.push({
          filename: 'Besprechungsnotizen.txt',
          content: `Besprechung ${month}\n- Belege vollständig?\n- Nächster Termin in vier Wochen\n`,
        });
      mail = {
        from: fmt(a),
        to: fmt(b),
        cc: r.next() < 0.3 ? fmt(r.pick(staff.filter((s) => s !== member))) : undefined,
        subject,
        text: `${en ? 'Dear' : 'Sehr geehrte Damen und Herren'}${en ? ` ${b.name}` : ''},\n\n${text.replace(/\{(\w+)\}/g, (_, k: string) => vars[k]!)}\n\n${en ? 'Kind regards' : 'Mit freundlichen Grüßen'}\n${a.name}\n`,
        attachments,
      };
      threadOf = { subject, ids: [], people: [a, b], en };
    }
    const composed = {
      ...mail,
      messageId,
      date,
    };
    const raw = await new MailComposer(composed).compile().build();
    if (kind === 'work' && threadOf) threadOf.ids.push(messageId);
    if (kind === 'work' && !forwardable && i > 3)
      forwardable = { raw, subject: mail.subject as string };
    const to = [mail.to, mail.cc].flat().filter((x): x is string => typeof x === 'string');
    out.push({ from: String(mail.from), to, subject: String(mail.subject), raw });
  }
  return out;
}

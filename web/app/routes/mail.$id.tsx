import { data, useLoaderData, useSearchParams } from 'react-router';
import type { LoaderArgs } from '../context';
import { Alert } from '../components/Field';
import { useT } from '../i18n';
import { byteSize, dateTime, person } from '../lib/format';
import { requireRole } from '../lib/guards.server';
import { rolesFor } from '../permissions';

/**
 * One mail, read-only: headers, the HTML in a sandboxed frame (or the text), attachments with
 * SHA-256, the archive facts (received time, hash, ledger entry, timestamp) and the downloads.
 * Opening it is audited (mail.viewed); a mail the user may not see is a 404.
 */
export async function loader({ request, context, params }: LoaderArgs) {
  const { session, cookie } = await requireRole(request, context, rolesFor('/mail'));
  const archive = context.services.archive;
  const deletedAt = await archive.deletedOn(session, params.id!);
  if (deletedAt)
    return data({ deleted: { id: params.id!, at: deletedAt.toISOString() } } as const, {
      headers: { 'Cache-Control': 'no-store' },
    });
  const r = await archive.view(session, cookie, params.id!, context.ip);
  if (!r) throw data(null, { status: 404 });
  return data(
    {
      deleted: undefined,
      id: r.mail.id,
      receivedAt: r.mail.receivedAt.toISOString(),
      originalReceivedAt: r.doc.originalReceivedAt
        ? new Date(r.doc.originalReceivedAt).toISOString()
        : null,
      sealedAt: r.mail.sealedAt?.toISOString() ?? null,
      state: r.mail.state as 'staged' | 'stored' | 'ledgered' | 'sealed',
      sha256: r.mail.sha256.toString('hex'),
      size: r.mail.size,
      ledgerIndex: r.mail.ledgerIndex,
      view: r.view,
      attachmentText: r.attachmentText,
      nestedText: r.nestedText,
      journal: r.doc.journal ?? null,
      arrivals: r.arrivals.map((a) => ({ id: a.id, receivedAt: a.receivedAt.toISOString() })),
      // Bcc (a journal report's full recipient list) only to roles that oversee the archive.
      bcc: session.role === 'member' ? [] : r.doc.bcc,
      /** Who may read the audit log gets a link to this mail's events there. */
      auditTrail: rolesFor('/audit').includes(session.role),
    },
    { headers: { 'Cache-Control': 'no-store' } },
  );
}

export default function MailPage() {
  const t = useT();
  const loaded = useLoaderData<typeof loader>();
  const [params] = useSearchParams();
  if (loaded.deleted) return <DeletedMail {...loaded.deleted} />;
  const m = loaded;
  const images = params.get('images') === '1';
  const v = m.view;
  return (
    <div className="wide mail">
      <p>
        <a href="/mail">← {t('mail.back')}</a>
      </p>
      <h1>{v.subject || t('mail.noSubject')}</h1>
      {v.problem && <Alert kind="notice">{t('mail.parseError')}</Alert>}
      {m.journal && (
        <p className="notice" data-testid="journal-notice">
          {t(m.journal.problem ? `mail.journal.${m.journal.problem}` : 'mail.journal')}
        </p>
      )}
      <dl className="facts">
        <dt>{t('mail.from')}</dt>
        <dd>
          <Addresses list={v.from} />
        </dd>
        <dt>{t('mail.to')}</dt>
        <dd>
          <Addresses list={v.to} />
        </dd>
        {v.cc.length > 0 && (
          <>
            <dt>{t('mail.cc')}</dt>
            <dd>
              <Addresses list={v.cc} />
            </dd>
          </>
        )}
        {m.bcc.length > 0 && (
          <>
            <dt>{t('mail.bcc')}</dt>
            <dd data-testid="mail-bcc">
              <Addresses list={m.bcc} />
            </dd>
          </>
        )}
        {v.replyTo.length > 0 && (
          <>
            <dt>{t('mail.replyTo')}</dt>
            <dd>
              <Addresses list={v.replyTo} />
            </dd>
          </>
        )}
        <dt>{t('mail.date')}</dt>
        <dd>{v.date ? dateTime(t.lang, v.date) : '–'}</dd>
      </dl>

      <nav className="actions" aria-label={t('mail.archiveFacts')}>
        <a href={`/mail/${m.id}/original`} download>
          {t('mail.downloadOriginal')}
        </a>
        <a href={`/mail/${m.id}/pdf`} download>
          {t('mail.downloadPdf')}
        </a>
        <a href={`/restores?id=${m.id}`}>{t('mail.restore')}</a>
        {m.state === 'sealed' ? (
          <a href={`/mail/${m.id}/proof`} download>
            {t('mail.downloadProof')}
          </a>
        ) : (
          <span>{t('mail.proofPending')}</span>
        )}
        {m.auditTrail && (
          <a href={`/audit?mail=${m.id}`} data-testid="mail-audit-trail">
            {t('mail.auditTrail')}
          </a>
        )}
      </nav>

      <details className="pdf-options">
        <summary>{t('mail.pdfProtected')}</summary>
        <form method="post" action={`/mail/${m.id}/pdf`}>
          <label htmlFor="pdf-password">{t('mail.pdfPassword')}</label>
          <input
            id="pdf-password"
            name="password"
            type="password"
            autoComplete="new-password"
            minLength={8}
            required
          />
          <button type="submit" className="primary">
            {t('mail.pdfSubmit')}
          </button>
        </form>
      </details>

      <h2>{t('mail.body')}</h2>
      {v.hasHtml ? (
        <>
          {v.blockedImages > 0 && !images && (
            <p className="notice" role="status">
              {t('mail.imagesBlocked', { count: v.blockedImages })}{' '}
              <a href={`/mail/${m.id}?images=1`}>{t('mail.showImages')}</a>
            </p>
          )}
          <iframe
            className="mail-body"
            title={t('mail.htmlFrame')}
            sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"
            referrerPolicy="no-referrer"
            src={`/mail/${m.id}/body${images ? '?images=1' : ''}`}
          />
          {v.text && (
            <details>
              <summary>{t('mail.textVersion')}</summary>
              <pre className="mail-text">{v.text}</pre>
            </details>
          )}
        </>
      ) : (
        <pre className="mail-text" data-testid="mail-text">
          {v.text}
        </pre>
      )}

      <h2>{t('mail.attachments')}</h2>
      {v.attachments.length === 0 ? (
        <p>{t('mail.noAttachments')}</p>
      ) : (
        <table className="list">
          <thead>
            <tr>
              <th scope="col">{t('mail.attachment')}</th>
              <th scope="col">{t('mail.size')}</th>
              <th scope="col">{t('mail.attachmentSearch')}</th>
              <th scope="col">SHA-256</th>
            </tr>
          </thead>
          <tbody>
            {v.attachments.map((a) => (
              <tr key={a.index} data-testid="attachment">
                <td>
                  <a href={`/mail/${m.id}/attachments/${a.index}`} download>
                    {a.filename}
                  </a>{' '}
                  <small>{a.contentType}</small>
                </td>
                <td>{byteSize(t.lang, a.size)}</td>
                <td data-testid="attachment-text">
                  {t(`mail.attachmentText.${m.attachmentText[a.index] ?? 'name'}`)}
                  {m.nestedText
                    .filter((n) => n.index === a.index)
                    .map((n, i) => (
                      <div key={i} data-testid="nested-text">
                        <small>
                          {n.filename.split(' › ').slice(1).join(' › ')}:{' '}
                          {t(`mail.attachmentText.${n.status}`)}
                        </small>
                      </div>
                    ))}
                </td>
                <td>
                  <code className="hash">{a.sha256}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>{t('mail.archiveFacts')}</h2>
      <dl className="facts">
        <dt>{t('mail.received')}</dt>
        <dd>{dateTime(t.lang, m.receivedAt)}</dd>
        {m.originalReceivedAt && (
          <>
            <dt>{t('mail.originallyReceived')}</dt>
            <dd data-testid="original-received">{dateTime(t.lang, m.originalReceivedAt)}</dd>
          </>
        )}
        {m.arrivals.length > 1 && (
          <>
            <dt>{t('mail.arrivalsTitle')}</dt>
            <dd data-testid="mail-arrivals">
              <p>{t('mail.arrivals', { count: m.arrivals.length })}</p>
              <ol>
                {m.arrivals.map((a) => (
                  <li key={a.id}>
                    {a.id === m.id ? (
                      <>
                        {dateTime(t.lang, a.receivedAt)} ({t('mail.arrivals.this')})
                      </>
                    ) : (
                      <a href={`/mail/${a.id}`}>{dateTime(t.lang, a.receivedAt)}</a>
                    )}
                  </li>
                ))}
              </ol>
            </dd>
          </>
        )}
        <dt>{t('mail.size')}</dt>
        <dd>{byteSize(t.lang, m.size)}</dd>
        <dt>{t('mail.sha256')}</dt>
        <dd>
          <code className="hash" data-testid="mail-sha256">
            {m.sha256}
          </code>
        </dd>
        <dt>{t('mail.ledgerIndex')}</dt>
        <dd>{m.ledgerIndex ?? '–'}</dd>
        <dt>{t('mail.state')}</dt>
        <dd>
          {m.state === 'sealed'
            ? t('mail.state.sealed', { at: m.sealedAt ? dateTime(t.lang, m.sealedAt) : '–' })
            : t(`mail.state.${m.state}`)}
        </dd>
      </dl>

      <details>
        <summary>{t('mail.headers')}</summary>
        <pre className="mail-headers">{v.headerLines.map((h) => h.line).join('\n')}</pre>
      </details>
    </div>
  );
}

/** Each address links to its mailbox view: every archived mail it sent, received or was copied on. */
function Addresses({ list }: { list: { name: string; address: string }[] }) {
  return (
    <>
      {list.map((a, i) => (
        <span key={`${a.address}-${i}`}>
          {i > 0 && ', '}
          {a.address ? (
            <a href={`/mail?mailbox=${encodeURIComponent(a.address)}`}>{person(a)}</a>
          ) : (
            person(a)
          )}
        </span>
      ))}
    </>
  );
}

/** A mail deleted at retention end: when, and the proof of its (still verifying) ledger entry. */
function DeletedMail({ id, at }: { id: string; at: string }) {
  const t = useT();
  return (
    <div className="wide mail">
      <p>
        <a href="/mail">← {t('mail.back')}</a>
      </p>
      <h1>{t('mail.deletedTitle')}</h1>
      <p data-testid="mail-deleted">
        {t('mail.deletedUnderRetention', { at: dateTime(t.lang, at) })}
      </p>
      <p>
        <a href={`/mail/${id}/proof`}>{t('mail.deletedProof')}</a>
      </p>
    </div>
  );
}

import { data, useActionData, useLoaderData, useSearchParams } from 'react-router';
import { z } from 'zod';
import type { ActionArgs, LoaderArgs } from '../context';
import { Alert, Field, Submit } from '../components/Field';
import { FormError } from '../components/FormError';
import { ImapAccountFields, imapAccountSchema } from '../components/ImapAccountFields';
import { useT } from '../i18n';
import { dateTime } from '../lib/format';
import { list, parseForm, text } from '../lib/form-schema';
import { formAction } from '../lib/form.server';
import { requireRecentAuth, requireRole } from '../lib/guards.server';
import { rolesFor } from '../permissions';

/**
 * Restore into a mailbox (issue 22 §4): a mail or a selection (`?id=`, repeated) or a search
 * (`?q=`; the archive list links here) back into an IMAP mailbox, into a folder the user names. Owners and admins may name
 * any mailbox; everyone else their own. The list shows each restore's progress. Starting one needs
 * a fresh password or code; every mail restored is audited as a decryption.
 */
export async function loader({ request, context }: LoaderArgs) {
  const { session } = await requireRole(request, context, rolesFor('/restores'));
  const rows = await context.services.restores.list(session);
  return data(
    {
      email: session.email,
      restores: rows.map((r) => ({
        id: r.id,
        mailbox: `${r.username} · ${r.host}:${r.port}`,
        folder: r.folder,
        status: r.status,
        total: r.total,
        done: r.done,
        error: r.error,
        createdAt: r.created_at.toISOString(),
      })),
    },
    { headers: { 'Cache-Control': 'no-store' } },
  );
}

const restoreForm = z.object({
  q: text(1000),
  id: list(z.string().max(64), 1000),
  ...imapAccountSchema,
  folder: text(200),
});

export const action = formAction(async ({ request, context }: ActionArgs) => {
  const { session, cookie } = await requireRecentAuth(request, context, rolesFor('/restores'));
  const form = await parseForm(request, restoreForm);
  await context.services.restores.start(
    session,
    cookie,
    {
      host: form.host,
      port: form.port,
      security: form.security,
      user: form.user,
      password: form.password,
      ca: form.ca,
      folder: form.folder,
      ...(form.id.length ? { messageIds: form.id } : { query: form.q }),
    },
    context.ip,
  );
  return data({ started: true });
});

export default function Restores() {
  const t = useT();
  const { restores, email } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const [params] = useSearchParams();
  const ids = params.getAll('id');
  const running = restores.some((r) => r.status === 'running');
  return (
    <div className="wide">
      {running && <meta httpEquiv="refresh" content="3" />}
      <h1>{t('restore.title')}</h1>
      <FormError />
      <p>{t('restore.intro')}</p>
      {result?.started && <Alert kind="notice">{t('restore.started')}</Alert>}
      <form method="post" autoComplete="off">
        {ids.length === 1 ? (
          <p>
            <input type="hidden" name="id" value={ids[0]} />
            {t('restore.oneMail')} <a href={`/mail/${ids[0]}`}>{ids[0]!.slice(0, 8)}</a>
          </p>
        ) : ids.length > 1 ? (
          <p data-testid="restore-selection">
            {ids.map((id) => (
              <input key={id} type="hidden" name="id" value={id} />
            ))}
            {t('restore.selected', { count: ids.length })}
          </p>
        ) : (
          <>
            <label htmlFor="restore-q">{t('restore.query')}</label>
            <input id="restore-q" name="q" type="text" defaultValue={params.get('q') ?? ''} />
          </>
        )}
        <ImapAccountFields user={email} />
        <Field label={t('restore.folder')} name="folder" defaultValue="Wiederhergestellt" />
        <Submit>{t('restore.start')}</Submit>
      </form>
      <table className="list">
        <thead>
          <tr>
            <th scope="col">{t('restore.when')}</th>
            <th scope="col">{t('restore.mailbox')}</th>
            <th scope="col">{t('restore.folder')}</th>
            <th scope="col">{t('restore.progress')}</th>
          </tr>
        </thead>
        <tbody>
          {restores.map((r) => (
            <tr key={r.id} data-testid="restore">
              <td>{dateTime(t.lang, r.createdAt)}</td>
              <td>{r.mailbox}</td>
              <td>{r.folder}</td>
              <td>
                {t(`restore.status.${r.status}`)} · {r.done} / {r.total ?? '…'}
                {r.error && <> · {r.error}</>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

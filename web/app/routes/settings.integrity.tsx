import { data, useActionData, useLoaderData } from 'react-router';
import type { ActionArgs, LoaderArgs } from '../context';
import { Alert, Submit } from '../components/Field';
import { useT } from '../i18n';
import { byteSize, dateTime } from '../lib/format';
import { requireRole } from '../lib/guards.server';
import { rolesFor } from '../permissions';
import { formAction } from '../lib/form.server';
import { FormError } from '../components/FormError';

/**
 * Integrity checks (daily by schedule, or now): every stored ciphertext re-read and hashed, the
 * ledger and the audit chain verified. Failures name the archive id and what was wrong.
 */
export async function loader({ request, context }: LoaderArgs) {
  const { session } = await requireRole(request, context, rolesFor('/settings/integrity'));
  const runs = await context.services.recentIntegrityRuns(session);
  return data(
    {
      runs: runs.map((r) => ({
        id: r.id,
        trigger: r.trigger,
        startedAt: r.started_at.toISOString(),
        finishedAt: r.finished_at?.toISOString() ?? null,
        objects: r.objects_checked,
        bytes: Number(r.bytes_checked),
        failures: r.failures,
        ledgerProblems: r.ledger_problems,
        auditProblems: r.audit_problems,
      })),
    },
    { headers: { 'Cache-Control': 'no-store' } },
  );
}

export const action = formAction(async function action({ request, context }: ActionArgs) {
  const { session } = await requireRole(request, context, rolesFor('/settings/integrity'));
  try {
    return { started: await context.services.startIntegrityCheck(session) };
  } catch {
    return data({ started: 'unavailable' as const }, { status: 503 });
  }
});

export default function Integrity() {
  const t = useT();
  const { runs } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <div className="wide">
      <h1>{t('integrity.title')}</h1>
      <FormError />
      <p>{t('integrity.intro')}</p>
      {result?.started === 'unavailable' ? (
        <Alert>{t('integrity.unavailable')}</Alert>
      ) : (
        result && (
          <Alert kind="notice">
            {t(result.started === 'started' ? 'integrity.startedNow' : 'integrity.running')}
          </Alert>
        )
      )}
      <form method="post">
        <Submit>{t('integrity.runNow')}</Submit>
      </form>
      <table className="list">
        <thead>
          <tr>
            <th scope="col">{t('integrity.started')}</th>
            <th scope="col">{t('integrity.objects')}</th>
            <th scope="col">{t('integrity.result')}</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => {
            const problems = r.failures.length + r.ledgerProblems.length + r.auditProblems.length;
            return (
              <tr key={r.id} data-testid="integrity-run">
                <td>
                  {dateTime(t.lang, r.startedAt)} ({t(`integrity.trigger.${r.trigger}`)})
                </td>
                <td>
                  {r.objects} · {byteSize(t.lang, r.bytes)}
                </td>
                <td>
                  {!r.finishedAt ? (
                    t('integrity.unfinished')
                  ) : problems === 0 ? (
                    <strong>{t('integrity.ok')}</strong>
                  ) : (
                    <ul className="problems">
                      {r.failures.map((f) => (
                        <li key={`${f.messageId}-${f.kind}`}>
                          {t(`integrity.kind.${f.kind}`)}: <code>{f.messageId}</code>
                          {f.detail ? ` (${f.detail})` : ''}
                        </li>
                      ))}
                      {r.ledgerProblems.map((p) => (
                        <li key={`l${p.at}`}>
                          {t('integrity.ledger')} #{p.at}: {p.what}
                        </li>
                      ))}
                      {r.auditProblems.map((p) => (
                        <li key={`a${p.seq}`}>
                          {t('integrity.audit')} #{p.seq}: {p.what}
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

import { data, useActionData, useLoaderData } from 'react-router';
import type { ActionArgs, LoaderArgs } from '../context';
import { Alert, Field, Submit } from '../components/Field';
import { useT } from '../i18n';
import { dateTime } from '../lib/format';
import { requireRecentAuth, requireRole } from '../lib/guards.server';
import { rolesFor } from '../permissions';
import { isUuid } from '../../../lib/input/input-error';
import { z } from 'zod';
import { integer, list, parseForm, text } from '../lib/form-schema';
import { formAction, formProblem } from '../lib/form.server';
import { FormError } from '../components/FormError';

/**
 * The tenant key (issue 9 §3): its version, the rotation schedule, a rotation now, removing a
 * member's access (a rotation that leaves them out), and the progress of the running rotation.
 */
export async function loader({ request, context }: LoaderArgs) {
  const { session } = await requireRole(request, context, rolesFor('/settings/keys'));
  const o = await context.services.keys.overview(session);
  return data(
    {
      keyVersion: o.keyVersion,
      months: o.months,
      rotatedAt: o.rotatedAt?.toISOString() ?? null,
      dueAt: o.dueAt?.toISOString() ?? null,
      latest: o.latest && {
        status: o.latest.status,
        trigger: o.latest.trigger,
        toVersion: o.latest.toVersion,
        epochsDone: o.latest.epochsDone,
        epochsTotal: o.latest.epochsTotal,
        removed: o.latest.removeUserIds.length,
        createdAt: o.latest.createdAt.toISOString(),
        finishedAt: o.latest.finishedAt?.toISOString() ?? null,
        error: o.latest.error,
      },
      members: o.members,
    },
    { headers: { 'Cache-Control': 'no-store' } },
  );
}

/** The rotation schedule (months), a rotation now, or one that removes the chosen members. */
const keysForm = z.object({
  intent: text(16),
  months: integer(0, 1200).optional(),
  user: list(z.string().max(64), 1000),
});

export const action = formAction(async function action({ request, context }: ActionArgs) {
  const { session, cookie } = await requireRecentAuth(request, context, rolesFor('/settings/keys'));
  const form = await parseForm(request, keysForm);
  const keys = context.services.keys;
  try {
    switch (form.intent) {
      case 'schedule':
        await keys.setSchedule(session, context.ip, form.months ?? Number.NaN);
        return { ok: 'keys.scheduleSaved' as const };
      case 'rotate':
        return {
          ok:
            (await keys.start(session, cookie, { removeUserIds: [], trigger: 'manual' })) ===
            'started'
              ? ('keys.rotationStarted' as const)
              : ('keys.rotationRunning' as const),
        };
      case 'remove': {
        const ids = form.user;
        if (!ids.length) return data({ error: 'keys.chooseMember' as const }, { status: 400 });
        if (!ids.every(isUuid)) return data({ error: 'keys.invalid' as const }, { status: 400 });
        return {
          ok:
            (await keys.start(session, cookie, {
              removeUserIds: ids,
              trigger: 'member-removal',
            })) === 'started'
              ? ('keys.rotationStarted' as const)
              : ('keys.rotationRunning' as const),
        };
      }
      default:
        return data({ error: 'keys.invalid' as const }, { status: 400 });
    }
  } catch (e) {
    if (formProblem(e)) throw e; // refused input: shown by <FormError/>
    if (e instanceof RangeError) return data({ error: 'keys.invalid' as const }, { status: 400 });
    return data({ error: 'keys.unavailable' as const }, { status: 503 });
  }
});

export default function Keys() {
  const t = useT();
  const k = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const running = k.latest?.status === 'running';
  return (
    <div className="wide">
      {/* While a rotation runs, the page follows it without JavaScript. */}
      {running && <meta httpEquiv="refresh" content="2" />}
      <h1>{t('keys.title')}</h1>
      <FormError />
      <p>{t('keys.intro')}</p>
      {result && 'ok' in result && <Alert kind="notice">{t(result.ok)}</Alert>}
      {result && 'error' in result && <Alert>{t(result.error)}</Alert>}
      <p data-testid="key-version">
        {t('keys.version', { v: String(k.keyVersion) })}
        {k.rotatedAt && ` · ${t('keys.rotatedAt', { at: dateTime(t.lang, k.rotatedAt) })}`}
      </p>
      {k.latest && (
        <section aria-label={t('keys.latest')} data-testid="key-rotation">
          <h2>{t('keys.latest')}</h2>
          <p>
            {t(`keys.status.${k.latest.status}`)} · {t(`keys.trigger.${k.latest.trigger}`)} · v
            {k.latest.toVersion}
          </p>
          <progress max={Math.max(k.latest.epochsTotal, 1)} value={k.latest.epochsDone} />{' '}
          {t('keys.epochs', {
            done: String(k.latest.epochsDone),
            total: String(k.latest.epochsTotal),
          })}
          {k.latest.error && <Alert>{t('keys.failed')}</Alert>}
        </section>
      )}
      <form method="post">
        <input type="hidden" name="intent" value="rotate" />
        <p>{t('keys.rotateExplain')}</p>
        <Submit>{t('keys.rotateNow')}</Submit>
      </form>
      <h2>{t('keys.removeTitle')}</h2>
      <form method="post">
        <input type="hidden" name="intent" value="remove" />
        <p>{t('keys.removeExplain')}</p>
        <fieldset>
          <legend>{t('keys.members')}</legend>
          {k.members.map((m) => (
            <label key={m.id}>
              <input type="checkbox" name="user" value={m.id} /> {m.email} ({t(`role.${m.role}`)})
            </label>
          ))}
        </fieldset>
        <button type="submit">{t('keys.removeNow')}</button>
      </form>
      <h2>{t('keys.scheduleTitle')}</h2>
      <form method="post">
        <input type="hidden" name="intent" value="schedule" />
        <Field
          label={t('keys.months')}
          name="months"
          type="number"
          defaultValue={String(k.months)}
        />
        {k.dueAt && <p>{t('keys.dueAt', { at: dateTime(t.lang, k.dueAt) })}</p>}
        <Submit>{t('keys.saveSchedule')}</Submit>
      </form>
    </div>
  );
}

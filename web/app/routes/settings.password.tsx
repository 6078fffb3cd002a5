import { data, useActionData } from 'react-router';
import type { ActionArgs, LoaderArgs } from '../context';
import { Alert, Field, Submit } from '../components/Field';
import { useT, type MessageKey } from '../i18n';
import { requireRecentAuth } from '../lib/guards.server';
import { z } from 'zod';
import { parseForm, text } from '../lib/form-schema';
import { formAction } from '../lib/form.server';
import { FormError } from '../components/FormError';
import { Throttled } from '../components/Throttled';
import { tooManyAttempts } from '../lib/http.server';
import { rolesFor } from '../permissions';

/**
 * Every user changes their own password (issue 21 §1): after a fresh second factor, with the
 * current one; only the wrapping of their key changes, and their other sessions end.
 */

export async function loader({ request, context }: LoaderArgs) {
  await requireRecentAuth(request, context, rolesFor('/settings/password'));
  return null;
}

const passwordForm = z.object({ current: text(1024), next: text(1024), repeat: text(1024) });

export const action = formAction(async function action({ request, context }: ActionArgs) {
  const { session } = await requireRecentAuth(request, context, rolesFor('/settings/password'));
  const form = await parseForm(request, passwordForm);
  const r = await context.services.changeOwnPassword(session, { ...form, ip: context.ip });
  switch (r.kind) {
    case 'ok':
      return { ok: true as const, ended: r.sessionsEnded };
    case 'failed':
      return data({ error: 'password.wrongCurrent' as MessageKey, seconds: 0 }, { status: 400 });
    case 'throttled':
      return tooManyAttempts(r.retryAfterS);
    default:
      return data(
        {
          error: (r.problem === 'mismatch'
            ? 'invite.mismatch'
            : r.problem === 'unchanged'
              ? 'password.unchanged'
              : `password.${r.problem}`) as MessageKey,
          seconds: 0,
        },
        { status: 400 },
      );
  }
});

export default function ChangePassword() {
  const t = useT();
  const result = useActionData<typeof action>();
  return (
    <>
      <h1>{t('password.title')}</h1>
      <FormError />
      <p>{t('password.intro')}</p>
      {result && 'ok' in result && (
        <Alert kind="notice">{t('password.changed', { n: result.ended })}</Alert>
      )}
      {result && 'error' in result && result.error === 'throttled' && 'until' in result && (
        <Throttled until={result.until} now={result.now} />
      )}
      {result && 'error' in result && result.error !== 'throttled' && (
        <Alert>{t(result.error)}</Alert>
      )}
      <form method="post">
        <Field
          label={t('password.current')}
          name="current"
          type="password"
          autoComplete="current-password"
        />
        <Field label={t('password.new')} name="next" type="password" autoComplete="new-password" />
        <Field
          label={t('password.repeat')}
          name="repeat"
          type="password"
          autoComplete="new-password"
        />
        <Submit>{t('password.save')}</Submit>
      </form>
    </>
  );
}

import { data, useActionData } from 'react-router';
import type { ActionArgs, LoaderArgs } from '../context';
import { Alert, Field, Submit } from '../components/Field';
import { useT, type MessageKey } from '../i18n';
import { requireRecoveredSession } from '../lib/guards.server';
import { seeOther } from '../lib/http.server';
import { z } from 'zod';
import { parseForm, secret } from '../lib/form-schema';
import { formAction } from '../lib/form.server';
import { FormError } from '../components/FormError';

/**
 * The last step of an owner's recovery (issue 21 §2): after the recovery key and the second
 * factor, the new password. Until it is set the session reaches nothing else (requireUser).
 */

export async function loader({ request, context }: LoaderArgs) {
  await requireRecoveredSession(request, context);
  return null;
}

const newPasswordForm = z.object({ next: secret(1024), repeat: secret(1024) });

export const action = formAction(async function action({ request, context }: ActionArgs) {
  const { session, cookie } = await requireRecoveredSession(request, context);
  const form = await parseForm(request, newPasswordForm);
  const r = await context.services.setRecoveredPassword(session, cookie, {
    ...form,
    ip: context.ip,
  });
  if (r.kind === 'ok') return seeOther('/');
  const error = r.problem === 'mismatch' ? 'invite.mismatch' : `password.${r.problem}`;
  return data({ error: error as MessageKey }, { status: 400 });
});

export default function NewPassword() {
  const t = useT();
  const result = useActionData<typeof action>();
  return (
    <>
      <h1>{t('newPassword.title')}</h1>
      <FormError />
      <p>{t('newPassword.intro')}</p>
      {result && <Alert>{t(result.error)}</Alert>}
      <form method="post">
        <Field label={t('password.new')} name="next" type="password" autoComplete="new-password" />
        <Field
          label={t('password.repeat')}
          name="repeat"
          type="password"
          autoComplete="new-password"
        />
        <Submit>{t('newPassword.save')}</Submit>
      </form>
    </>
  );
}

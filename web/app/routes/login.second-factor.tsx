import type { ActionArgs, LoaderArgs } from '../context';
import { data, useActionData } from 'react-router';
import { Alert, Field, Submit } from '../components/Field';
import { PasskeyButton } from '../components/Passkey';
import { Throttled } from '../components/Throttled';
import { useT } from '../i18n';
import { requirePasswordStep } from '../lib/guards.server';
import {
  seeOther,
  SESSION_COOKIE,
  setCookie,
  actionHeaders,
  tooManyAttempts,
} from '../lib/http.server';
import { z } from 'zod';
import { parseForm, text } from '../lib/form-schema';
import { formAction } from '../lib/form.server';
import { FormError } from '../components/FormError';

export const headers = actionHeaders;

export async function loader({ request, context }: LoaderArgs) {
  await requirePasswordStep(request, context);
  return null;
}

export const action = formAction(async function action({ request, context }: ActionArgs) {
  const { session, cookie } = await requirePasswordStep(request, context);
  const { code } = await parseForm(request, z.object({ code: text(64) }));
  const r = await context.services.secondFactorStep(session, cookie, {
    code,
    ip: context.ip,
    userAgent: context.userAgent,
  });
  if (r.kind === 'throttled') return tooManyAttempts(r.retryAfterS);
  if (r.kind === 'failed') return data({ error: 'failed' as const, seconds: 0 }, { status: 401 });
  // A due scheduled key rotation needs an owner's or admin's keys: signing in (a POST) starts it.
  const signedIn = await context.services.readSession(r.cookie);
  if (signedIn.status === 'active')
    await context.services.keys.startIfDue(signedIn.session, r.cookie).catch(() => false);
  return seeOther('/', setCookie(context, SESSION_COOKIE, r.cookie));
});

export default function SecondFactor() {
  const t = useT();
  const result = useActionData<typeof action>();
  return (
    <>
      <h1>{t('second.title')}</h1>
      <FormError />
      <p>{t('second.intro')}</p>
      {result?.error === 'failed' && <Alert>{t('second.failed')}</Alert>}
      {result?.error === 'throttled' && <Throttled until={result.until} now={result.now} />}
      <form method="post">
        <Field
          label={t('second.code')}
          name="code"
          autoComplete="one-time-code"
          inputMode="numeric"
          autoFocus
        />
        <Submit>{t('second.submit')}</Submit>
      </form>
      <p>{t('second.or')}</p>
      <PasskeyButton
        mode="login"
        label={t('second.passkey')}
        failed={t('security.passkeyFailed')}
        done="/"
      />
    </>
  );
}

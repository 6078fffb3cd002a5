import type { ActionArgs, LoaderArgs } from '../context';
import { data, Link, useActionData } from 'react-router';
import { Alert, Field, Submit } from '../components/Field';
import { Throttled } from '../components/Throttled';
import { useT } from '../i18n';
import { optionalSession } from '../lib/guards.server';
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

/**
 * "Passwort vergessen?" for owners (issue 21 §2): e-mail and the tenant's recovery key, then the
 * usual second factor, then a new password (/login/new-password). Public like the login page;
 * one answer for every failure, whether or not the address exists.
 */

export const headers = actionHeaders;

export async function loader({ request, context }: LoaderArgs) {
  if ((await optionalSession(request, context))?.secondFactor) throw seeOther('/');
  return null;
}

const recoverForm = z.object({ email: text(320), recoveryKey: text(200) });

export const action = formAction(async function action({ request, context }: ActionArgs) {
  const { email, recoveryKey } = await parseForm(request, recoverForm);
  const r = await context.services.recoveryKeyStep({
    email,
    recoveryKey,
    ip: context.ip,
    userAgent: context.userAgent,
  });
  if (r.kind === 'throttled') return tooManyAttempts(r.retryAfterS);
  if (r.kind === 'failed')
    return data({ error: 'failed' as const, seconds: 0, email }, { status: 401 });
  return seeOther('/login/second-factor', setCookie(context, SESSION_COOKIE, r.cookie));
});

export default function Recover() {
  const t = useT();
  const result = useActionData<typeof action>();
  return (
    <>
      <h1>{t('recover.title')}</h1>
      <FormError />
      <p>{t('recover.intro')}</p>
      <p>{t('recover.others')}</p>
      {result?.error === 'failed' && <Alert>{t('recover.failed')}</Alert>}
      {result?.error === 'throttled' && <Throttled until={result.until} now={result.now} />}
      <form method="post">
        <Field
          label={t('login.email')}
          name="email"
          type="email"
          autoComplete="username"
          defaultValue={result && 'email' in result ? result.email : undefined}
        />
        <Field label={t('recover.key')} name="recoveryKey" autoComplete="off" />
        <Submit>{t('login.submit')}</Submit>
      </form>
      <p>
        <Link to="/login">{t('recover.back')}</Link>
      </p>
    </>
  );
}

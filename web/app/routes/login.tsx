import type { ActionArgs, LoaderArgs } from '../context';
import { data, Link, useActionData, useSearchParams } from 'react-router';
import { Alert, Field, Submit } from '../components/Field';
import { Throttled } from '../components/Throttled';
import { atPhrase } from '../lib/format';
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
import { parseForm, secret, text } from '../lib/form-schema';
import { formAction } from '../lib/form.server';
import { FormError } from '../components/FormError';
import { PasskeyButton } from '../components/Passkey';

export const headers = actionHeaders;

export async function loader({ request, context }: LoaderArgs) {
  if ((await optionalSession(request, context))?.secondFactor) throw seeOther('/');
  return null;
}

const loginForm = z.object({ email: text(320), password: secret(1024) });

export const action = formAction(async function action({ request, context }: ActionArgs) {
  const { email, password } = await parseForm(request, loginForm);
  const r = await context.services.passwordStep({
    email,
    password,
    ip: context.ip,
    userAgent: context.userAgent,
  });
  if (r.kind === 'throttled') return tooManyAttempts(r.retryAfterS);
  if (r.kind === 'failed')
    return data({ error: 'failed' as const, seconds: 0, email }, { status: 401 });
  if (r.kind === 'sso-required')
    return data({ error: 'sso-required' as const, seconds: 0, email }, { status: 403 });
  return seeOther(
    r.next === 'enrol' ? '/setup/second-factor' : '/login/second-factor',
    setCookie(context, SESSION_COOKIE, r.cookie),
  );
});

export default function Login() {
  const t = useT();
  const result = useActionData<typeof action>();
  const [params] = useSearchParams();
  return (
    <>
      <h1>{t('login.title')}</h1>
      <FormError />
      {params.get('expired') && <Alert kind="notice">{expiredMessage(t, params)}</Alert>}
      {params.get('bye') && <Alert kind="notice">{t('login.loggedOut')}</Alert>}
      {result?.error === 'failed' && <Alert>{t('login.failed')}</Alert>}
      {result?.error === 'sso-required' && <Alert>{t('login.ssoRequired')}</Alert>}
      {result?.error === 'throttled' && <Throttled until={result.until} now={result.now} />}
      <form method="post">
        <Field
          label={t('login.email')}
          name="email"
          type="email"
          autoComplete="username"
          defaultValue={result && 'email' in result ? result.email : undefined}
        />
        <Field
          label={t('login.password')}
          name="password"
          type="password"
          autoComplete="current-password"
        />
        <Submit>{t('login.submit')}</Submit>
      </form>
      <p>
        <Link to="/login/recover">{t('login.forgot')}</Link> ·{' '}
        {/* A document of its own: its policy lets its form go on to the provider. */}
        <Link to="/login/sso" reloadDocument>
          {t('login.sso')}
        </Link>
      </p>
      <p>{t('second.or')}</p>
      <PasskeyButton
        mode="passwordless"
        label={t('login.passkey')}
        failed={t('login.passkeyFailed')}
        noUnlock={t('login.passkeyNoUnlock')}
        ssoFirst={t('login.ssoRequired')}
        done="/"
      />
    </>
  );
}

/**
 * Why the session ended, when, and by which limit (issue 25 §3), from the guard's redirect; a
 * link without those facts (or with ones that do not parse) gets the plain sentence.
 */
function expiredMessage(t: ReturnType<typeof useT>, params: URLSearchParams): string {
  const at = new Date(params.get('at') ?? '');
  const limit = Number(params.get('limit'));
  const kind = params.get('expired');
  if (Number.isNaN(at.getTime()) || !Number.isInteger(limit) || limit < 1 || limit > 10_000)
    return t('login.expired');
  const when = atPhrase(t.lang, at, new Date());
  if (kind === 'idle') return t('login.expiredIdle', { when, limit });
  if (kind === 'absolute') return t('login.expiredAbsolute', { when, limit });
  return t('login.expired');
}

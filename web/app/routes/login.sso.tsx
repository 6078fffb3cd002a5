import type { ActionArgs, LoaderArgs } from '../context';
import { data, Link, redirect, useActionData, useSearchParams } from 'react-router';
import { Alert, Field, Submit } from '../components/Field';
import { useT } from '../i18n';
import { optionalSession } from '../lib/guards.server';
import { seeOther } from '../lib/http.server';
import { z } from 'zod';
import { parseForm, text } from '../lib/form-schema';
import { formAction } from '../lib/form.server';
import { FormError } from '../components/FormError';

/**
 * Single sign-on, step one (issue 21 §5): the e-mail address names the tenant whose OpenID
 * provider vouches for its domain; the browser goes there. Public like the login page.
 */

export async function loader({ request, context }: LoaderArgs) {
  if ((await optionalSession(request, context))?.secondFactor) throw seeOther('/');
  return null;
}

const ssoStartForm = z.object({ email: text(320) });

export const action = formAction(async function action({ request, context }: ActionArgs) {
  const { email } = await parseForm(request, ssoStartForm);
  const r = await context.services.sso.start({
    email,
    ip: context.ip,
    userAgent: context.userAgent,
  });
  if (r.kind === 'redirect') return redirect(r.url, { status: 303 });
  return data({ error: r.kind, email }, { status: r.kind === 'unavailable' ? 503 : 404 });
});

export default function SsoStart() {
  const t = useT();
  const result = useActionData<typeof action>();
  const [params] = useSearchParams();
  return (
    <>
      <h1>{t('ssoLogin.title')}</h1>
      <FormError />
      <p>{t('ssoLogin.intro')}</p>
      {params.get('failed') && <Alert>{t('ssoLogin.failed')}</Alert>}
      {result?.error === 'not-configured' && <Alert>{t('ssoLogin.notConfigured')}</Alert>}
      {result?.error === 'unavailable' && <Alert>{t('ssoLogin.unavailable')}</Alert>}
      <form method="post">
        <Field
          label={t('login.email')}
          name="email"
          type="email"
          autoComplete="username"
          defaultValue={result?.email}
        />
        <Submit>{t('login.submit')}</Submit>
      </form>
      <p>
        <Link to="/login">{t('recover.back')}</Link>
      </p>
    </>
  );
}

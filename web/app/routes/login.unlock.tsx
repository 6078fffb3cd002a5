import type { ActionArgs, LoaderArgs } from '../context';
import { data, useActionData, useLoaderData } from 'react-router';
import { Alert, Field, Submit } from '../components/Field';
import { PasskeyButton } from '../components/Passkey';
import { Throttled } from '../components/Throttled';
import { useT } from '../i18n';
import { adoptSession } from '../lib/guards.server';
import {
  actionHeaders,
  clearCookie,
  cookiesOf,
  seeOther,
  SSO_COOKIE,
  tooManyAttempts,
} from '../lib/http.server';
import { z } from 'zod';
import { parseForm, secret } from '../lib/form-schema';
import { formAction } from '../lib/form.server';
import { FormError } from '../components/FormError';

/**
 * After single sign-on (issue 21 §5): the provider proved who this is, but it cannot open the
 * end-to-end keys. The archive password (both factors with the SSO) or a PRF passkey does.
 * The SSO ticket cookie is the credential of this page.
 */

export const headers = actionHeaders;

async function ticketOf(request: Request, context: LoaderArgs['context']) {
  const ticket = cookiesOf(request, context)[SSO_COOKIE];
  const proven = await context.services.sso.ticket(ticket);
  return proven?.userId ? { ticket: ticket!, proven } : undefined;
}

export async function loader({ request, context }: LoaderArgs) {
  const found = await ticketOf(request, context);
  if (!found) throw seeOther('/login/sso');
  return { email: found.proven.email };
}

const unlockForm = z.object({ password: secret(1024) });

export const action = formAction(async function action({ request, context }: ActionArgs) {
  const found = await ticketOf(request, context);
  if (!found) throw seeOther('/login/sso');
  const { password } = await parseForm(request, unlockForm);
  const r = await context.services.sso.unlock(found.ticket, {
    password,
    ip: context.ip,
    userAgent: context.userAgent,
  });
  if (r.kind === 'throttled') return tooManyAttempts(r.retryAfterS);
  if (r.kind === 'failed') return data({ error: 'failed' as const, seconds: 0 }, { status: 401 });
  return seeOther('/', adoptSession(context, r.cookie), clearCookie(context, SSO_COOKIE));
});

export default function Unlock() {
  const t = useT();
  const { email } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <>
      <h1>{t('unlock.title')}</h1>
      <FormError />
      <p>{t('unlock.intro', { email })}</p>
      {result?.error === 'failed' && <Alert>{t('unlock.failed')}</Alert>}
      {result?.error === 'throttled' && <Throttled until={result.until} now={result.now} />}
      <form method="post">
        <Field
          label={t('login.password')}
          name="password"
          type="password"
          autoComplete="current-password"
        />
        <Submit>{t('unlock.submit')}</Submit>
      </form>
      <p>{t('second.or')}</p>
      <PasskeyButton
        mode="passwordless"
        label={t('unlock.passkey')}
        failed={t('login.passkeyFailed')}
        noUnlock={t('login.passkeyNoUnlock')}
        done="/"
      />
    </>
  );
}

import type { ActionArgs, LoaderArgs } from '../context';
import { data, useActionData, useLoaderData } from 'react-router';
import { Alert, Field, Submit } from '../components/Field';
import { useT, type MessageKey } from '../i18n';
import { clearCookie, cookiesOf, seeOther, SSO_COOKIE } from '../lib/http.server';
import { z } from 'zod';
import { parseForm, secret } from '../lib/form-schema';
import { formAction } from '../lib/form.server';
import { FormError } from '../components/FormError';

/**
 * Someone the tenant's OpenID provider vouches for, without an account (issue 21 §5): they choose
 * an archive password (their keys are made under it) and wait for an owner's or admin's approval,
 * which grants them the tenant key. The SSO ticket cookie is the credential of this page.
 */

async function ticketOf(request: Request, context: LoaderArgs['context']) {
  const ticket = cookiesOf(request, context)[SSO_COOKIE];
  const proven = await context.services.sso.ticket(ticket);
  return proven && !proven.userId ? { ticket: ticket!, proven } : undefined;
}

export async function loader({ request, context }: LoaderArgs) {
  // After the request: the ticket is spent, the page says what happens next.
  if (new URL(request.url).searchParams.get('sent')) return { email: null };
  const found = await ticketOf(request, context);
  if (!found) throw seeOther('/login/sso');
  return { email: found.proven.email };
}

const requestForm = z.object({ password: secret(1024), repeat: secret(1024) });

export const action = formAction(async function action({ request, context }: ActionArgs) {
  const found = await ticketOf(request, context);
  if (!found) throw seeOther('/login/sso');
  const form = await parseForm(request, requestForm);
  const r = await context.services.sso.requestAccess(found.ticket, { ...form, ip: context.ip });
  if (r.kind === 'ok')
    return seeOther('/login/sso/request?sent=1', clearCookie(context, SSO_COOKIE));
  if (r.kind === 'failed') throw seeOther('/login/sso');
  const error = r.problem === 'mismatch' ? 'invite.mismatch' : `password.${r.problem}`;
  return data({ error: error as MessageKey }, { status: 400 });
});

export default function RequestAccess() {
  const t = useT();
  const { email } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  if (email === null)
    return (
      <>
        <h1>{t('ssoRequest.title')}</h1>
        <Alert kind="notice">{t('ssoRequest.sent')}</Alert>
      </>
    );
  return (
    <>
      <h1>{t('ssoRequest.title')}</h1>
      <FormError />
      <p>{t('ssoRequest.intro', { email })}</p>
      {result && 'error' in result && <Alert>{t(result.error)}</Alert>}
      <form method="post">
        <Field
          label={t('invite.password')}
          name="password"
          type="password"
          autoComplete="new-password"
        />
        <Field
          label={t('invite.confirm')}
          name="repeat"
          type="password"
          autoComplete="new-password"
        />
        <Submit>{t('ssoRequest.submit')}</Submit>
      </form>
    </>
  );
}

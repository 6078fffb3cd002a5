import { data, useActionData, useSearchParams } from 'react-router';
import type { ActionArgs, LoaderArgs } from '../context';
import { Alert, Field, Submit } from '../components/Field';
import { Throttled } from '../components/Throttled';
import { useT } from '../i18n';
import { requireUser } from '../lib/guards.server';
import {
  actionHeaders,
  SESSION_COOKIE,
  seeOther,
  setCookie,
  tooManyAttempts,
} from '../lib/http.server';
import { safePath } from '../lib/paths';
import { z } from 'zod';
import { parseForm, secret } from '../lib/form-schema';
import { formAction } from '../lib/form.server';
import { FormError } from '../components/FormError';

/**
 * Confirms the password, or a fresh code from the authenticator app, before a sensitive action,
 * then returns to it.
 */

export const headers = actionHeaders;

export async function loader({ request, context }: LoaderArgs) {
  await requireUser(request, context);
  return null;
}

/** Either a code from the authenticator app or the password; `to` is where to go back to. */
const reauthForm = z.object({
  code: z.string().max(16).optional(),
  password: secret(1024),
  // Any value: safePath falls back to the start page for anything but a local path.
  to: z.unknown(),
});

export const action = formAction(async function action({ request, context }: ActionArgs) {
  const { session, cookie } = await requireUser(request, context);
  const form = await parseForm(request, reauthForm);
  const meta = { ip: context.ip, userAgent: context.userAgent };
  const r =
    form.code !== undefined
      ? await context.services.reauthenticateWithCode(session, cookie, { code: form.code, ...meta })
      : await context.services.reauthenticate(session, cookie, {
          password: form.password,
          ...meta,
        });
  if (r === 'throttled') return tooManyAttempts(60);
  if (r === 'failed') return data({ error: 'failed' as const, seconds: 0 }, { status: 401 });
  return seeOther(safePath(form.to), setCookie(context, SESSION_COOKIE, r.cookie));
});

export default function Reauth() {
  const t = useT();
  const [params] = useSearchParams();
  const result = useActionData<typeof action>();
  return (
    <>
      <h1>{t('reauth.title')}</h1>
      <FormError />
      <p>{t('reauth.intro')}</p>
      {result?.error === 'failed' && <Alert>{t('login.failed')}</Alert>}
      {result?.error === 'throttled' && <Throttled until={result.until} now={result.now} />}
      <form method="post">
        <input type="hidden" name="to" value={safePath(params.get('to'))} />
        <Field
          label={t('login.password')}
          name="password"
          type="password"
          autoComplete="current-password"
        />
        <Submit>{t('reauth.submit')}</Submit>
      </form>
      <form method="post">
        <input type="hidden" name="to" value={safePath(params.get('to'))} />
        <Field
          label={t('reauth.code')}
          name="code"
          inputMode="numeric"
          autoComplete="one-time-code"
        />
        <Submit>{t('reauth.withCode')}</Submit>
      </form>
    </>
  );
}

import { data, useActionData, useSearchParams } from 'react-router';
import type { ActionArgs, LoaderArgs } from '../context';
import { Alert, Field, Submit } from '../components/Field';
import { useT } from '../i18n';
import { requireUser } from '../lib/guards.server';
import { actionHeaders, seeOther, tooManyAttempts } from '../lib/http.server';
import { safePath } from '../lib/paths';

/** Confirms the password before a sensitive action, then returns to it. */

export const headers = actionHeaders;

export async function loader({ request, context }: LoaderArgs) {
  await requireUser(request, context);
  return null;
}

export async function action({ request, context }: ActionArgs) {
  const { session } = await requireUser(request, context);
  const form = await request.formData();
  const r = await context.services.reauthenticate(session, {
    password: String(form.get('password') ?? '').slice(0, 1024),
    ip: context.ip,
    userAgent: context.userAgent,
  });
  if (r === 'throttled') return tooManyAttempts(60);
  if (r === 'failed') return data({ error: 'failed' as const, seconds: 0 }, { status: 401 });
  return seeOther(safePath(form.get('to')));
}

export default function Reauth() {
  const t = useT();
  const [params] = useSearchParams();
  const result = useActionData<typeof action>();
  return (
    <>
      <h1>{t('reauth.title')}</h1>
      <p>{t('reauth.intro')}</p>
      {result?.error === 'failed' && <Alert>{t('login.failed')}</Alert>}
      {result?.error === 'throttled' && (
        <Alert>{t('login.throttled', { seconds: result.seconds })}</Alert>
      )}
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
    </>
  );
}

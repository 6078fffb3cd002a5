import { data, useActionData, useLoaderData } from 'react-router';
import type { ActionArgs, LoaderArgs } from '../context';
import { Alert } from '../components/Field';
import { TotpSetup } from '../components/TotpSetup';
import { useT } from '../i18n';
import { rolesFor } from '../permissions';
import { requireRecentAuth } from '../lib/guards.server';
import { z } from 'zod';
import { parseForm, text } from '../lib/form-schema';
import { formAction } from '../lib/form.server';
import { FormError } from '../components/FormError';

/** Replace the authenticator app (new phone): a new secret, confirmed by a code from the new app. */

export async function loader({ request, context }: LoaderArgs) {
  const { session } = await requireRecentAuth(
    request,
    context,
    rolesFor('/settings/authenticator'),
  );
  const secret = context.services.newTotpSecret();
  const uri = context.services.totpUri(secret, session.email);
  return data(
    { secret, qr: await context.services.qrSvg(uri) },
    { headers: { 'Cache-Control': 'no-store' } },
  );
}

/** A new authenticator: the secret the page showed (base32) and the first code from the app. */
const totpForm = z.object({
  secret: z.string().regex(/^[A-Z2-7]{32}$/),
  code: text(16),
});

export const action = formAction(async function action({ request, context }: ActionArgs) {
  const { session } = await requireRecentAuth(
    request,
    context,
    rolesFor('/settings/authenticator'),
  );
  const { secret, code } = await parseForm(request, totpForm);
  const ok = await context.services.replaceTotp(session, {
    secret,
    code,
    ip: context.ip,
    userAgent: context.userAgent,
  });
  return data({ ok, secret }, { status: ok ? 200 : 400 });
});

export default function ReplaceAuthenticator() {
  const t = useT();
  const page = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  if (result?.ok) return <Alert kind="notice">{t('authenticator.replaced')}</Alert>;
  const secret = result?.secret ?? page.secret;
  return (
    <>
      <h1>{t('authenticator.title')}</h1>
      <FormError />
      <p>{t('enrol.intro')}</p>
      <TotpSetup
        secret={secret}
        qr={secret === page.secret ? page.qr : undefined}
        failed={!!result && !result.ok}
      />
    </>
  );
}

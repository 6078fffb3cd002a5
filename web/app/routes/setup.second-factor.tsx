import type { ActionArgs, LoaderArgs } from '../context';
import { data, useActionData, useLoaderData } from 'react-router';
import { useState } from 'react';
import { PasskeyButton } from '../components/Passkey';
import { TotpSetup } from '../components/TotpSetup';
import { useT } from '../i18n';
import { requireEnrolment, requireUser, adoptSession } from '../lib/guards.server';
import { actionHeaders } from '../lib/http.server';
import { z } from 'zod';
import { parseForm, text } from '../lib/form-schema';
import { formAction } from '../lib/form.server';
import { FormError } from '../components/FormError';

/**
 * TOTP enrolment, mandatory before anything else. The secret travels in the form (it is the
 * user's own, shown as QR code anyway) and is stored only sealed to the user's public key once a
 * code from the app confirms it. Then the ten recovery codes are shown once.
 */

export const headers = actionHeaders;

export async function loader({ request, context }: LoaderArgs) {
  if (context.sessionCookie) {
    // The action just completed enrolment (new session): the page shows the recovery codes.
    await requireUser(request, context);
    return null;
  }
  const { session } = await requireEnrolment(request, context);
  const secret = context.services.newTotpSecret();
  const uri = context.services.totpUri(secret, session.email);
  return data(
    { secret, uri, qr: await context.services.qrSvg(uri) },
    { headers: { 'Cache-Control': 'no-store' } },
  );
}

/** A new authenticator: the secret the page showed (base32) and the first code from the app. */
const totpForm = z.object({
  secret: z.string().regex(/^[A-Z2-7]{32}$/),
  code: text(16),
});

export const action = formAction(async function action({ request, context }: ActionArgs) {
  const { session, cookie } = await requireEnrolment(request, context);
  const { secret, code } = await parseForm(request, totpForm);
  const r = await context.services.enrolTotp(session, cookie, {
    secret,
    code,
    ip: context.ip,
    userAgent: context.userAgent,
  });
  if (r.kind === 'failed') return data({ failed: true as const, secret }, { status: 400 });
  return data(
    { failed: false as const, recoveryCodes: r.recoveryCodes },
    {
      headers: {
        'Set-Cookie': adoptSession(context, r.cookie),
        'Cache-Control': 'no-store',
      },
    },
  );
});

export default function EnrolSecondFactor() {
  const t = useT();
  const page = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  // A passkey enrolled in the browser answers with the codes directly (no form post).
  const [passkeyCodes, setPasskeyCodes] = useState<string[]>();
  const codes = result && !result.failed ? result.recoveryCodes : passkeyCodes;
  if (codes)
    return (
      <>
        <h1>{t('codes.title')}</h1>
        <FormError />
        <p>{t('codes.intro')}</p>
        <ul className="codes" data-testid="recovery-codes">
          {codes.map((c: string) => (
            <li key={c}>{c}</li>
          ))}
        </ul>
        <p>
          <a href="/" className="primary">
            {t('codes.continue')}
          </a>
        </p>
      </>
    );
  // After a wrong code the same secret stays, so the app's entry keeps working.
  const secret: string =
    (result?.failed && 'secret' in result ? String(result.secret) : undefined) ??
    page?.secret ??
    '';
  return (
    <>
      <h1>{t('enrol.title')}</h1>
      <p>{t('enrol.intro')}</p>
      <TotpSetup
        secret={secret}
        qr={page && secret === page.secret ? page.qr : undefined}
        failed={!!result?.failed}
      />
      <h2>{t('enrol.passkeyTitle')}</h2>
      <p>{t('enrol.passkeyIntro')}</p>
      <PasskeyButton
        mode="register"
        label={t('enrol.passkey')}
        failed={t('security.passkeyFailed')}
        done="/"
        name="Passkey"
        onVerified={(answer) =>
          setPasskeyCodes(
            Array.isArray(answer.recoveryCodes) ? answer.recoveryCodes.map(String) : [],
          )
        }
      />
    </>
  );
}

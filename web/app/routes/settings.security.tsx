import { useLoaderData } from 'react-router';
import type { ActionArgs, LoaderArgs } from '../context';
import { PasskeyButton } from '../components/Passkey';
import { useT } from '../i18n';
import { requireRecentAuth, requireUser } from '../lib/guards.server';
import { seeOther } from '../lib/http.server';
import { z } from 'zod';
import { parseForm, text } from '../lib/form-schema';
import { formAction } from '../lib/form.server';
import { FormError } from '../components/FormError';

/** Second factors of the signed-in user: TOTP (always, from enrolment) and passkeys. */
export async function loader({ request, context }: LoaderArgs) {
  const { session } = await requireUser(request, context);
  const passkeys = await context.services.listPasskeys(session);
  return {
    passkeys: passkeys.map((p) => ({
      id: p.id,
      name: p.name,
      createdAt: p.createdAt.toISOString(),
      lastUsedAt: p.lastUsedAt?.toISOString() ?? null,
      unlocks: p.unlocks,
    })),
  };
}

export const action = formAction(async function action({ request, context }: ActionArgs) {
  const { session } = await requireRecentAuth(request, context);
  const { passkey: id } = await parseForm(request, z.object({ passkey: text(400) }));
  await context.services.removePasskey(session, id, context.ip);
  return seeOther('/settings/security');
});

export default function Security() {
  const t = useT();
  const { passkeys } = useLoaderData<typeof loader>();
  return (
    <>
      <h1>{t('security.title')}</h1>
      <FormError />
      <p>
        <a href="/settings/authenticator">{t('authenticator.title')}</a>
      </p>
      <h2>{t('security.passkeys')}</h2>
      {passkeys.length === 0 ? (
        <p>{t('security.noPasskeys')}</p>
      ) : (
        <ul data-testid="passkeys">
          {passkeys.map((p) => (
            <li key={p.id}>
              {p.name} —{' '}
              {new Date(p.createdAt).toLocaleDateString(t.lang === 'de' ? 'de-DE' : 'en-GB')} —{' '}
              {t(p.unlocks ? 'security.passkeyUnlocks' : 'security.passkeySecondFactor')}{' '}
              <form method="post" className="inline">
                <input type="hidden" name="passkey" value={p.id} />
                <button type="submit" aria-label={`${t('security.removePasskey')}: ${p.name}`}>
                  {t('security.removePasskey')}
                </button>
              </form>
            </li>
          ))}
        </ul>
      )}
      <PasskeyButton
        mode="register"
        label={t('security.addPasskey')}
        failed={t('security.passkeyFailed')}
        done="/settings/security"
        name="Passkey"
      />
    </>
  );
}

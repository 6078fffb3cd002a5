import { useActionData, useLoaderData } from 'react-router';
import type { ActionArgs, LoaderArgs } from '../context';
import { Alert, Field, Submit } from '../components/Field';
import { useT } from '../i18n';
import { rolesFor } from '../permissions';
import { requireRecentAuth, requireRole } from '../lib/guards.server';
import { z } from 'zod';
import { parseForm, secret, text } from '../lib/form-schema';
import { formAction } from '../lib/form.server';
import { FormError } from '../components/FormError';

/**
 * Single sign-on for owners (issue 21 §5): the tenant's OpenID provider, its client, the e-mail
 * domains it vouches for, the group → role mapping, and whether sign-in needs it. The page says
 * plainly what SSO cannot do: unlock the end-to-end keys.
 */

export async function loader({ request, context }: LoaderArgs) {
  const { session } = await requireRole(request, context, rolesFor('/settings/sso'));
  const s = await context.services.sso.settings(session);
  return {
    redirectUri: `${context.services.publicUrl.replace(/\/+$/, '')}/login/sso/callback`,
    settings: s
      ? {
          issuer: s.issuer,
          clientId: s.clientId,
          domains: s.allowedDomains.join(', '),
          groupClaim: s.groupClaim,
          roleMap: s.roleMap.map((m) => `${m.group} = ${m.role}`).join('\n'),
          required: s.required,
        }
      : null,
  };
}

const ssoForm = z.object({
  issuer: text(500),
  clientId: text(200),
  clientSecret: secret(1000),
  domains: text(2000),
  groupClaim: text(100),
  roleMap: text(10_000),
  required: z.literal('on').optional(),
});

export const action = formAction(async function action({ request, context }: ActionArgs) {
  // Who may sign in, and with which role: a fresh password or code first.
  const { session } = await requireRecentAuth(request, context, rolesFor('/settings/sso'));
  const form = await parseForm(request, ssoForm);
  const settings = context.services.sso.parse({ ...form, required: form.required === 'on' });
  await context.services.sso.save(session, {
    settings,
    clientSecret: form.clientSecret,
    ip: context.ip,
  });
  return { ok: true as const };
});

export default function SsoSettings() {
  const t = useT();
  const { settings, redirectUri } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <>
      <h1>{t('sso.title')}</h1>
      <FormError />
      <p>{t('sso.intro')}</p>
      <p>
        <strong>{t('sso.keysNote')}</strong>
      </p>
      <p>
        {t('sso.redirectUri')} <code data-testid="sso-redirect-uri">{redirectUri}</code>
      </p>
      {result && 'ok' in result && <Alert kind="notice">{t('sso.saved')}</Alert>}
      <form method="post">
        <Field label={t('sso.issuer')} name="issuer" type="url" defaultValue={settings?.issuer} />
        <Field label={t('sso.clientId')} name="clientId" defaultValue={settings?.clientId} />
        <Field
          label={t(settings ? 'sso.clientSecretKeep' : 'sso.clientSecret')}
          name="clientSecret"
          type="password"
          autoComplete="off"
          required={!settings}
        />
        <Field label={t('sso.domains')} name="domains" defaultValue={settings?.domains} />
        <Field
          label={t('sso.groupClaim')}
          name="groupClaim"
          defaultValue={settings?.groupClaim ?? 'groups'}
        />
        <label htmlFor="sso-role-map">{t('sso.roleMap')}</label>
        <textarea
          id="sso-role-map"
          name="roleMap"
          rows={4}
          maxLength={10_000}
          defaultValue={settings?.roleMap}
        />
        <label>
          <input type="checkbox" name="required" defaultChecked={settings?.required} />{' '}
          {t('sso.required')}
        </label>
        <Submit>{t('sso.save')}</Submit>
      </form>
    </>
  );
}

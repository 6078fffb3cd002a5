import { data, useActionData, useLoaderData } from 'react-router';
import type { ActionArgs, LoaderArgs } from '../context';
import { Alert, Field, Submit } from '../components/Field';
import { useT } from '../i18n';
import { rolesFor } from '../permissions';
import { requireRole } from '../lib/guards.server';
import { z } from 'zod';
import { integer, parseForm } from '../lib/form-schema';
import { formAction } from '../lib/form.server';
import { FormError } from '../components/FormError';

/**
 * Tenant settings for owners and admins: the session limits (TOMs §4) and text recognition for
 * scans (issue 20, off by default).
 */

export async function loader({ request, context }: LoaderArgs) {
  const { session } = await requireRole(request, context, rolesFor('/settings/tenant'));
  return {
    ...(await context.services.sessionLimits(session)),
    ocr: await context.services.ocrEnabled(session),
  };
}

/**
 * The session limits (whole numbers; lib/auth/tenant-settings.ts decides which are allowed), or
 * text recognition on or off (`intent=ocr`, the checkbox sent only when ticked).
 */
const settingsForm = z.union([
  z.object({ intent: z.literal('ocr'), ocr: z.literal('on').optional() }),
  z.object({ idle: integer(0, 100_000), absolute: integer(0, 100_000) }),
]);

export const action = formAction(async function action({ request, context }: ActionArgs) {
  const { session } = await requireRole(request, context, rolesFor('/settings/tenant'));
  const form = await parseForm(request, settingsForm);
  if ('intent' in form) {
    const ok = await context.services.changeOcrSetting(session, form.ocr === 'on', context.ip);
    return data({ ok }, { status: ok ? 200 : 400 });
  }
  const { idle, absolute } = form;
  const ok = await context.services.changeSessionSettings(
    session,
    { idleMinutes: idle, absoluteHours: absolute },
    context.ip,
  );
  return data({ ok }, { status: ok ? 200 : 400 });
});

export default function TenantSettings() {
  const t = useT();
  const limits = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <>
      <h1>{t('tenant.title')}</h1>
      <FormError />
      {result &&
        (result.ok ? (
          <Alert kind="notice">{t('tenant.saved')}</Alert>
        ) : (
          <Alert>{t('tenant.invalid')}</Alert>
        ))}
      <form method="post">
        <Field
          label={t('tenant.idle')}
          name="idle"
          type="number"
          defaultValue={String(limits.idleMinutes)}
        />
        <Field
          label={t('tenant.absolute')}
          name="absolute"
          type="number"
          defaultValue={String(limits.absoluteHours)}
        />
        <Submit>{t('tenant.save')}</Submit>
      </form>
      <form method="post">
        <input type="hidden" name="intent" value="ocr" />
        <label>
          <input type="checkbox" name="ocr" value="on" defaultChecked={limits.ocr} />{' '}
          {t('tenant.ocr')}
        </label>
        <p>{t('tenant.ocrHint')}</p>
        <Submit>{t('tenant.ocrSave')}</Submit>
      </form>
    </>
  );
}

import { data, useActionData, useLoaderData } from 'react-router';
import type { ActionArgs, LoaderArgs } from '../context';
import { Alert } from '../components/Field';
import { useT } from '../i18n';
import { dateTime } from '../lib/format';
import { requireRole } from '../lib/guards.server';
import { rolesFor } from '../permissions';
import { z } from 'zod';
import { file, formValues } from '../lib/form-schema';
import { formAction } from '../lib/form.server';
import { FormError } from '../components/FormError';

/**
 * Drop a mail (.eml) and its proof bundle: each verification step passes or fails on screen. The
 * files are read in memory and forgotten; the page also shows the verifier keys to pass to
 * `mailrepo verify` or the bundle's verify.py when checking without us.
 */

const MAX_UPLOAD = 100 * 1024 * 1024;

export async function loader({ request, context }: LoaderArgs) {
  const { session } = await requireRole(request, context, rolesFor('/verify'));
  return await context.services.publishedKeys(session);
}

/** Both files, each non-empty (the body limit above bounds them while they are read). */
const verifyForm = z.object({ mail: file(MAX_UPLOAD), bundle: file(MAX_UPLOAD) });

export const action = formAction(async function action({ request, context }: ActionArgs) {
  const { session } = await requireRole(request, context, rolesFor('/verify'));
  if (Number(request.headers.get('Content-Length') ?? 0) > MAX_UPLOAD)
    return data({ error: 'too-large' as const }, { status: 413 });
  const form = verifyForm.safeParse(formValues(await request.formData()));
  if (!form.success) return data({ error: 'missing' as const }, { status: 400 });
  const { mail, bundle } = form.data;
  const outcome = await context.services.verifyUpload(
    session,
    new Uint8Array(await bundle.arrayBuffer()),
    new Uint8Array(await mail.arrayBuffer()),
  );
  return { outcome, files: { mail: mail.name, bundle: bundle.name } };
});

export default function Verify() {
  const t = useT();
  const keys = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <div className="wide">
      <h1>{t('verify.title')}</h1>
      <FormError />
      <p>{t('verify.intro')}</p>
      <form method="post" encType="multipart/form-data">
        <label htmlFor="mail">{t('verify.mail')}</label>
        <input id="mail" name="mail" type="file" accept=".eml,message/rfc822" required />
        <label htmlFor="bundle">{t('verify.bundle')}</label>
        <input id="bundle" name="bundle" type="file" accept=".zip,application/zip" required />
        <button type="submit" className="primary">
          {t('verify.submit')}
        </button>
      </form>
      {result && 'error' in result && (
        <Alert>{t(result.error === 'too-large' ? 'verify.tooLarge' : 'verify.missing')}</Alert>
      )}
      {result && 'outcome' in result && (
        <section aria-live="polite">
          <h2>
            {result.files.mail} + {result.files.bundle}
          </h2>
          {result.outcome.verified ? (
            <p className="notice" role="status" data-testid="verify-result">
              {t('verify.verified', { at: dateTime(t.lang, result.outcome.genTime!) })}
            </p>
          ) : (
            <Alert>
              <span data-testid="verify-result">{t('verify.failed')}</span>
            </Alert>
          )}
          <ol className="steps">
            {result.outcome.steps.map((s) => (
              <li key={s.step} data-testid="verify-step" data-status={s.status}>
                <strong>{t(`verify.status.${s.status}`)}</strong> {s.step}
                {s.detail && (
                  <>
                    {' '}
                    — <code>{s.detail}</code>
                  </>
                )}
              </li>
            ))}
          </ol>
        </section>
      )}
      <h2>{t('verify.keys')}</h2>
      <p>{t('verify.keysIntro')}</p>
      <dl className="facts">
        <dt>{t('verify.tenantKey')}</dt>
        <dd>
          <code className="hash">{keys.tenantKey ?? '–'}</code>
        </dd>
        <dt>{t('verify.anchorKey')}</dt>
        <dd>
          <code className="hash">{keys.anchorKey ?? '–'}</code>
        </dd>
      </dl>
    </div>
  );
}

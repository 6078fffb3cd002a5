import type { ActionArgs, LoaderArgs } from '../context';
import { useActionData, useLoaderData } from 'react-router';
import { formAction } from '../lib/form.server';
import { Submit } from '../components/Field';
import { useT } from '../i18n';
import { requireUser } from '../lib/guards.server';

export async function loader({ request, context }: LoaderArgs) {
  const { session } = await requireUser(request, context);
  // Reading the page changes nothing (a GET never does): a due rotation is offered, started by
  // the sign-in itself or the button below.
  const rotationDue = await context.services.keys.isDue(session).catch(() => false);
  return { email: session.email, role: session.role, rotationDue };
}

export const action = formAction(async ({ request, context }: ActionArgs) => {
  const { session, cookie } = await requireUser(request, context);
  const started = await context.services.keys.startIfDue(session, cookie).catch(() => false);
  return { rotationStarted: started };
});

export default function Home() {
  const t = useT();
  const { email, role, rotationDue } = useLoaderData<typeof loader>();
  const rotationStarted = useActionData<typeof action>()?.rotationStarted;
  return (
    <>
      <h1>{t('home.title')}</h1>
      <p>{t('home.signedInAs', { email, role: t(`role.${role}`) })}</p>
      {rotationStarted ? (
        <p className="notice" role="status">
          {t('keys.scheduledStarted')} <a href="/settings/keys">{t('nav.keys')}</a>
        </p>
      ) : (
        rotationDue && (
          <form method="post" className="notice">
            {t('keys.scheduledDue')} <Submit>{t('keys.startDue')}</Submit>
          </form>
        )
      )}
      <nav aria-label={t('nav.home')}>
        <a href="/mail">{t('nav.archive')}</a> · <a href="/exports">{t('nav.exports')}</a> ·{' '}
        <a href="/verify">{t('nav.verify')}</a> ·{' '}
        <a href="/settings/sessions">{t('nav.sessions')}</a> ·{' '}
        <a href="/settings/security">{t('nav.security')}</a>
        {(role === 'owner' || role === 'admin') && (
          <>
            {' · '}
            <a href="/settings/users">{t('nav.users')}</a>
            {' · '}
            <a href="/settings/tenant">{t('nav.tenant')}</a>
            {' · '}
            <a href="/settings/integrity">{t('nav.integrity')}</a>
            {' · '}
            <a href="/settings/retention">{t('nav.retention')}</a>
            {' · '}
            <a href="/settings/keys">{t('nav.keys')}</a>
            {' · '}
            <a href="/settings/ingest">{t('nav.ingest')}</a>
            {' · '}
            <a href="/imports">{t('nav.imports')}</a>
          </>
        )}
        {role !== 'member' && (
          <>
            {' · '}
            <a href="/audit">{t('nav.audit')}</a>
            {' · '}
            <a href="/jobs">{t('nav.jobs')}</a>
          </>
        )}
      </nav>
      <form method="post" action="/logout">
        <Submit>{t('nav.logout')}</Submit>
      </form>
    </>
  );
}

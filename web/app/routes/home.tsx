import { useLoaderData, type LoaderFunctionArgs } from 'react-router';
import { Submit } from '../components/Field';
import { useT } from '../i18n';
import { requireUser } from '../lib/guards.server';

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { session } = await requireUser(request, context);
  return { email: session.email, role: session.role };
}

export default function Home() {
  const t = useT();
  const { email, role } = useLoaderData<typeof loader>();
  return (
    <>
      <h1>{t('home.title')}</h1>
      <p>{t('home.signedInAs', { email, role: t(`role.${role}`) })}</p>
      <form method="post" action="/logout">
        <Submit>{t('nav.logout')}</Submit>
      </form>
    </>
  );
}

import type { LoaderArgs } from './context';
import {
  isRouteErrorResponse,
  Links,
  Meta,
  Outlet,
  Scripts,
  ScrollRestoration,
  useLocation,
  useRouteLoaderData,
} from 'react-router';
import { useT, type Lang } from './i18n';
import { useErrorId } from './lib/error-id';
import { langOf } from './lib/http.server';
import { optionalSession } from './lib/guards.server';
import { NavBar } from './components/NavBar';
import type { Role } from '../../lib/db/schema';
import styles from './styles.css?url';

export const links = () => [{ rel: 'stylesheet', href: styles }];

export async function loader({ request, context }: LoaderArgs) {
  // The navigation bar is for a user past both factors; a page's own guard still decides access.
  const session = await optionalSession(request, context).catch(() => undefined);
  const user = session?.secondFactor ? { role: session.role, email: session.email } : null;
  return { lang: langOf(request), nonce: context.nonce, user };
}

export function Layout({ children }: { children: React.ReactNode }) {
  const data = useRouteLoaderData('root') as { lang: Lang; nonce: string } | undefined;
  return (
    <html lang={data?.lang ?? 'de'}>
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body>
        {children}
        <ScrollRestoration nonce={data?.nonce} />
        <Scripts nonce={data?.nonce} />
      </body>
    </html>
  );
}

function Header() {
  const t = useT();
  const { pathname } = useLocation();
  return (
    <header className="top">
      <a href="/" className="brand">
        {t('app.name')}
      </a>
      <span className="tagline">{t('app.tagline')}</span>
      <form method="post" action="/lang" className="lang">
        <input type="hidden" name="lang" value={t.lang === 'de' ? 'en' : 'de'} />
        <input type="hidden" name="to" value={pathname} />
        <button type="submit">{t('lang.switch')}</button>
      </form>
    </header>
  );
}

export default function App() {
  const data = useRouteLoaderData('root') as { user: { role: Role; email: string } | null };
  return (
    <>
      <Header />
      {data?.user && <NavBar role={data.user.role} email={data.user.email} />}
      <main>
        <Outlet />
      </main>
    </>
  );
}

export function ErrorBoundary({ error }: { error: unknown }) {
  const t = useT();
  const errorId = useErrorId();
  const notFound = isRouteErrorResponse(error) && error.status === 404;
  return (
    <main>
      <h1>{t('error.title')}</h1>
      <p role="alert">{t(notFound ? 'error.notFound' : 'error.generic')}</p>
      {!notFound && errorId && (
        <p>
          {t('error.id')} <code id="error-id">{errorId}</code>
        </p>
      )}
    </main>
  );
}

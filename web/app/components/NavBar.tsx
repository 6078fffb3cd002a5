import { useLocation } from 'react-router';
import type { Role } from '../../../lib/db/schema';
import { useT, type MessageKey } from '../i18n';
import { PERMISSIONS, type GuardedPage } from '../permissions';

/**
 * The navigation on every page of a signed-in user: the pages their role may open (the
 * permission matrix decides, as the guards do), the current one marked, and sign-out.
 */
const LINKS: [GuardedPage, MessageKey][] = [
  ['/', 'nav.home'],
  ['/mail', 'nav.archive'],
  ['/exports', 'nav.exports'],
  ['/verify', 'nav.verify'],
  ['/imports', 'nav.imports'],
  ['/jobs', 'nav.jobs'],
  ['/audit', 'nav.audit'],
  ['/settings/users', 'nav.users'],
  ['/settings/retention', 'nav.retention'],
  ['/settings/integrity', 'nav.integrity'],
  ['/settings/keys', 'nav.keys'],
  ['/settings/ingest', 'nav.ingest'],
  ['/settings/tenant', 'nav.tenant'],
  ['/settings/sso', 'nav.sso'],
  ['/settings/sessions', 'nav.sessions'],
  ['/settings/security', 'nav.security'],
  ['/settings/password', 'nav.password'],
];

export function NavBar({ role, email }: { role: Role; email: string }) {
  const t = useT();
  const { pathname } = useLocation();
  const current = (page: string) =>
    page === '/' ? pathname === '/' : pathname === page || pathname.startsWith(`${page}/`);
  return (
    <nav className="bar" aria-label={t('nav.main')}>
      <ul>
        {LINKS.filter(([page]) => (PERMISSIONS[page] as readonly Role[]).includes(role)).map(
          ([page, label]) => (
            <li key={page}>
              <a href={page} aria-current={current(page) ? 'page' : undefined}>
                {t(label)}
              </a>
            </li>
          ),
        )}
      </ul>
      <form method="post" action="/logout" className="logout">
        <span className="who" title={email}>
          {email}
        </span>{' '}
        <button type="submit">{t('nav.logout')}</button>
      </form>
    </nav>
  );
}

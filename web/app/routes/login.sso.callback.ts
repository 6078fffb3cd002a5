import type { LoaderArgs } from '../context';
import { seeOther, setCookie, SSO_COOKIE } from '../lib/http.server';

/**
 * The OpenID provider's redirect back (GET, public: the state and code are the credential, each
 * used once). A proven identity becomes a ticket cookie for the unlock page — or, for someone
 * without an account, for the access request.
 */
export async function loader({ request, context }: LoaderArgs) {
  const r = await context.services.sso.finish({
    query: new URL(request.url).search.slice(0, 8192),
    ip: context.ip,
    userAgent: context.userAgent,
  });
  if (r.kind === 'failed') return seeOther('/login/sso?failed=1');
  return seeOther(
    r.existing ? '/login/unlock' : '/login/sso/request',
    setCookie(context, SSO_COOKIE, r.ticket, { maxAge: 600 }),
  );
}

import type { LoaderArgs } from '../context';
import { INVITE_COOKIE, seeOther, setCookie } from '../lib/http.server';

/**
 * The invitation link. The token is swapped for a short-lived cookie at once and the browser is
 * sent to /invite, so the secret does not stay in the address bar, history or later requests.
 * Public by nature: the token is the credential (checked again on every use).
 */
export async function loader({ params, context }: LoaderArgs) {
  const token = String(params.token ?? '');
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return seeOther('/invite');
  return seeOther(
    '/invite',
    setCookie(context, INVITE_COOKIE, token, { path: '/invite', maxAge: 3600 }),
  );
}

import type { ActionArgs } from '../context';
import { cookiesOf, clearCookie, seeOther, SESSION_COOKIE } from '../lib/http.server';
import { formAction } from '../lib/form.server';

/** POST only (a GET cannot sign anyone out); ends the session and destroys its keys. */
export const action = formAction(async function action({ request, context }: ActionArgs) {
  const r = await context.services.readSession(cookiesOf(request, context)[SESSION_COOKIE]);
  if (r.status === 'active') await context.services.logout(r.session, context.ip);
  return seeOther('/login?bye=1', clearCookie(context, SESSION_COOKIE));
});

export function loader() {
  return seeOther('/');
}

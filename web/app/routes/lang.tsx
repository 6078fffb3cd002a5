import type { ActionArgs } from '../context';
import { isLang, LANG_COOKIE } from '../i18n';
import { safePath, seeOther, setCookie } from '../lib/http.server';
import { formAction } from '../lib/form.server';

// Public: the language choice is not tenant data; it is a plain preference cookie.
export const action = formAction(async function action({ request, context }: ActionArgs) {
  const form = await request.formData();
  const lang = form.get('lang');
  const to = safePath(form.get('to'));
  if (!isLang(lang)) return seeOther(to);
  return seeOther(to, setCookie(context, LANG_COOKIE, lang, { maxAge: 365 * 86400 }));
});

export function loader() {
  return seeOther('/');
}

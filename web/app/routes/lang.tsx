import type { ActionArgs } from '../context';
import { isLang, LANG_COOKIE } from '../i18n';
import { safePath, seeOther, setCookie } from '../lib/http.server';
import { z } from 'zod';
import { parseForm } from '../lib/form-schema';
import { formAction } from '../lib/form.server';

// `to` may be anything: safePath falls back to the start page for all but a local path.
const langForm = z.object({ lang: z.string().optional(), to: z.unknown() });

// Public: the language choice is not tenant data; it is a plain preference cookie.
export const action = formAction(async function action({ request, context }: ActionArgs) {
  const { lang, to: path } = await parseForm(request, langForm);
  const to = safePath(path);
  if (!isLang(lang)) return seeOther(to);
  return seeOther(to, setCookie(context, LANG_COOKIE, lang, { maxAge: 365 * 86400 }));
});

export function loader() {
  return seeOther('/');
}

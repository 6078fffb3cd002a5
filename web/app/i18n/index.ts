import { useRouteLoaderData } from 'react-router';
import { isMessageKey, translate, type Lang, type MessageKey } from './translate';

export { isLang, isMessageKey, LANG_COOKIE, translate } from './translate';
export type { Lang, MessageKey } from './translate';

/** `t(key, vars)` in the language the root loader chose for this request. */
export function useT() {
  const data = useRouteLoaderData('root') as { lang?: Lang } | undefined;
  const lang = data?.lang ?? 'de';
  return Object.assign(
    (key: MessageKey, vars?: Record<string, string | number>) => translate(lang, key, vars),
    { lang, known: isMessageKey },
  );
}

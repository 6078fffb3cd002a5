import { de, type MessageKey } from './de';
import { en } from './en';

/** The dictionaries without React: what server code and unit tests translate with. */

export type Lang = 'de' | 'en';
export type { MessageKey };
const MESSAGES: Record<Lang, Record<MessageKey, string>> = { de, en };

export const LANG_COOKIE = 'mailrepo_lang';
export const isLang = (v: unknown): v is Lang => v === 'de' || v === 'en';

export function translate(lang: Lang, key: MessageKey, vars: Record<string, string | number> = {}) {
  return MESSAGES[lang][key].replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? `{${k}}`));
}

/** A key the dictionaries have: domain errors and import reasons arrive as strings. */
export const isMessageKey = (key: string): key is MessageKey => Object.hasOwn(de, key);

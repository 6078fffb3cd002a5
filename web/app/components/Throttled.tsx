import { useT } from '../i18n';
import { untilPhrase } from '../lib/format';
import { Alert } from './Field';

/**
 * The answer to too many failed attempts (issue 25 §3): until when, in the reader's words and
 * Berlin time, and what to do instead of waiting.
 */
export function Throttled({ until, now }: { until: string; now: string }) {
  const t = useT();
  return (
    <Alert>
      <span data-testid="throttled">
        {t('login.throttledUntil', { when: untilPhrase(t.lang, until, now) })}{' '}
        {t('login.throttledHelp')}
      </span>
    </Alert>
  );
}

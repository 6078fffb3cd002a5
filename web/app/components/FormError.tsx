import { useActionData } from 'react-router';
import { useT } from '../i18n';
import { Alert } from './Field';

/** The refusal a form's action returned (web/app/lib/form.server.ts), in the page's language. */
export function FormError() {
  const t = useT();
  const result = useActionData() as
    { formError?: { code: string; params: Record<string, string | number> } } | undefined;
  const problem = result?.formError;
  if (!problem) return null;
  return (
    <Alert>{t.known(problem.code) ? t(problem.code, problem.params) : t('form.invalid')}</Alert>
  );
}

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
  // A field is named by its label where the dictionaries have one, else by its form name.
  const params = { ...problem.params };
  if (typeof params.field === 'string' && t.known(`field.${params.field}`))
    params.field = t(`field.${params.field}` as 'field.name');
  return <Alert>{t.known(problem.code) ? t(problem.code, params) : t('form.invalid')}</Alert>;
}

import { data } from 'react-router';
import { isInputError } from '../../../lib/input/input-error';
import type { ActionArgs } from '../context';

/**
 * What a refused form hands back to its page: a message key of the dictionaries, its values and
 * the field at fault. Rendered by <FormError/>; the page keeps what was typed.
 */
export interface FormProblem {
  code: string;
  params: Record<string, string | number>;
  field?: string;
}

/** PostgreSQL's data exceptions (22…) and integrity violations (23…) are refusals of input. */
function databaseRefusal(e: unknown): FormProblem | undefined {
  const pg = e as { code?: unknown; column?: string; constraint?: string; table?: string };
  if (typeof pg?.code !== 'string' || !/^2[23][0-9A-Z]{3}$/.test(pg.code)) return undefined;
  const field =
    pg.column ??
    pg.constraint?.replace(`${pg.table ?? ''}_`, '').replace(/_(check|key|fkey|pkey)$/, '');
  return field
    ? { code: 'form.invalidField', params: { field }, field }
    : { code: 'form.invalid', params: {} };
}

/** The problem to show for an error thrown by a form's action, or undefined for a real fault. */
export function formProblem(e: unknown): FormProblem | undefined {
  if (isInputError(e)) return { code: e.code, params: e.params, field: e.field };
  return databaseRefusal(e);
}

/**
 * Wraps a route's action: bad input — an InputError from the domain, or a value the database
 * still refused — becomes a 400 with the form problem instead of the error page. Redirects and
 * responses pass through; anything else is a fault (logged with an id by entry.server).
 */
export function formAction<T>(fn: (args: ActionArgs) => Promise<T>) {
  return async (args: ActionArgs): Promise<T> => {
    try {
      return await fn(args);
    } catch (e) {
      // Too many password checks at once in this process: come back shortly, nothing was checked.
      if ((e as Error)?.name === 'BusyError')
        return data(
          { formError: { code: 'form.busy', params: {} } },
          {
            status: 503,
            headers: { 'Retry-After': String((e as { retryAfterS?: number }).retryAfterS ?? 5) },
          },
        ) as never;
      const problem = formProblem(e);
      if (!problem) throw e;
      // Typed as the page's own result: only <FormError/> reads this shape, and every page has one.
      return data({ formError: problem }, { status: 400 }) as never;
    }
  };
}

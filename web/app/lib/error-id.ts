import { createContext, useContext, useState } from 'react';

/** The id under which the server logged the fault this response reports (entry.server). */
export const ErrorIdContext = createContext<string | undefined>(undefined);

/**
 * On the server from the context; in the browser, hydration reads the id the server rendered
 * (the client never knew it), so both render the same text.
 */
export function useErrorId(): string | undefined {
  const fromServer = useContext(ErrorIdContext);
  const [id] = useState(
    () =>
      fromServer ??
      (typeof document === 'undefined'
        ? undefined
        : (document.getElementById('error-id')?.textContent ?? undefined)),
  );
  return id;
}

import pino, { type DestinationStream, type Logger } from 'pino';
import { redact } from './redact';

export type { Logger };

/**
 * JSON logs (pino). Every merged object goes through `redact`; interpolation arguments are not
 * supported on purpose (`log.info('%s', x)` would bypass it), so messages must be static strings.
 */
export function createLogger(
  name: string,
  opts: { level?: string; destination?: DestinationStream } = {},
): Logger {
  return pino(
    {
      name,
      level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
      formatters: { log: (obj) => redact(obj) as Record<string, unknown> },
      serializers: { err: (e: unknown) => redact(e) },
      hooks: {
        logMethod(args, method) {
          // Keep the merging object and the message; drop printf-style arguments.
          const [first, second] = args as unknown[];
          if (typeof first === 'string') return method.call(this, first);
          return method.call(
            this,
            first as object,
            typeof second === 'string' ? second : undefined,
          );
        },
      },
    },
    opts.destination,
  );
}

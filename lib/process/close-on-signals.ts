/**
 * Ctrl-C (SIGINT) and supervisors (SIGTERM) stop a server process the same way: stop accepting,
 * let open requests finish, exit 0. Used by every process entry point with a listening server.
 */
export function closeOnSignals(server: { close(callback: () => void): unknown }): void {
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

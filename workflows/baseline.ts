/**
 * A workflow that does nothing: `npm run bench` measures how many of these the stack starts and
 * completes per second — the ceiling for anything that runs one workflow per mail.
 */
export async function emptyWorkflow(): Promise<null> {
  return null;
}

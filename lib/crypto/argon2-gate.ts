/**
 * A bound on concurrent Argon2 runs in this process (issue 17 §3): each costs 64 MiB and a core
 * for ~100 ms, so unbounded parallel logins would exhaust memory. At most 4 run, 64 more wait
 * (lib/process/gate.ts).
 */
import { Gate } from '../process/gate';

/** The process's gate for Argon2: 4 × 64 MiB at once, 64 waiting. */
export const argon2Gate = new Gate(4, 64);

import type { WorkflowArgs } from '../contracts/workflows';
import type * as workflows from './index';

/**
 * Compile-time only (nothing imports this at run time): every exported workflow has an entry in
 * contracts/workflows.ts, every entry is a workflow, and each workflow accepts the arguments its
 * entry promises to the code that starts it.
 */
type Exported = typeof workflows;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const namesMatch: Same<keyof Exported, keyof WorkflowArgs> = true;
const argsAccepted: { [K in keyof WorkflowArgs]: (...args: WorkflowArgs[K]) => unknown } =
  {} as Exported;
export const contractsChecked = [namesMatch, argsAccepted] as const;

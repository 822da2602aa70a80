// A create that berth did not finish (state.creating): what may still run, and how to end it.
// Until the init passes its commit step it dies with berth (the executor kills it, or it sees
// the executor's socket close), so these processes are short-lived; `delete --force` does not
// wait for that but kills them, so it can remove the cgroups at once.
import { sameProcess, type ContainerState } from "./index.ts";
import { initAlive } from "./status.ts";

/** The executor or the init of an unfinished create still lives (berth itself is not asked). */
export function creationAlive(state: ContainerState): boolean {
  const c = state.creating;
  return !!c && (sameProcess(c.executorPid, c.executorStartTime) || initAlive(state));
}

/** SIGKILLs the executor of an unfinished create, if it is still the process recorded. */
export function killCreating(state: ContainerState): void {
  const c = state.creating;
  // A pid of 0 or 1 is never signalled: kill(0) would hit our own process group.
  if (!c?.executorPid || c.executorPid <= 1 || !c.executorStartTime) return;
  if (!sameProcess(c.executorPid, c.executorStartTime)) return;
  try {
    process.kill(c.executorPid, "SIGKILL");
  } catch { /* gone */ }
}

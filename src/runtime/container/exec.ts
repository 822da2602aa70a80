// `berth exec`: run another process in a running container — its namespaces, cgroups, and
// (unless overridden) its process settings: user, capabilities, no_new_privs, seccomp, env.
import fs from "node:fs";
import { checkLsm } from "./lsm.ts";
import { BerthError, configError } from "../errors.ts";
import type { Process, Spec } from "../spec/types.ts";
import { compileExecPlan } from "../plan/exec.ts";
import { printPlan } from "../plan/print.ts";
import { launch } from "../executor/launch.ts";
import { loadContainer } from "./lifecycle.ts";
import { compileSeccompCached } from "../seccomp/cache.ts";
import { FORWARDED, writePidFile } from "./run.ts";
import { stdioSinks, type Sinks } from "../sinks.ts";

export interface ExecOptions {
  root: string;
  id: string;
  process: Process;
  detach?: boolean;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds?: number;
  dryRun?: boolean;
  /** where dry-run output goes (default: stdout) */
  sinks?: Sinks;
}

/** The container's config as created (berth saves a copy next to its state). */
export function savedSpec(root: string, id: string): Spec {
  try {
    return JSON.parse(fs.readFileSync(`${root}/${id}/config.json`, "utf8"));
  } catch (e) {
    throw new BerthError(`cannot read the saved config of container ${JSON.stringify(id)}: ${(e as Error).message}`, { phase: "exec" });
  }
}

export async function execInContainer(o: ExecOptions): Promise<number> {
  const l = loadContainer(o.root, o.id);
  if (l.status !== "running") {
    throw new BerthError(`cannot exec in container ${JSON.stringify(o.id)}: it is ${l.status}`, {
      phase: "exec", hint: l.status === "created" ? "start it first" : l.status === "paused" ? "resume it first" : undefined,
    });
  }
  const spec = savedSpec(o.root, o.id);
  const proc = o.process;
  if (proc.terminal && o.detach && !o.consoleSocket) {
    throw configError("process.terminal", "cannot allocate a terminal for a detached process without --console-socket");
  }
  checkLsm(proc, undefined);
  const seccomp = spec.linux?.seccomp ? await compileSeccompCached(spec.linux.seccomp, "linux.seccomp", `${o.root}/.cache/seccomp`, !o.dryRun) : undefined;
  let passwd: string | undefined;
  try {
    passwd = fs.readFileSync(`${l.state.rootfs}/etc/passwd`, "utf8");
  } catch { /* no passwd: HOME=/ */ }
  const plan = compileExecPlan({
    spec, process: proc, initPid: l.state.pid, detach: !!o.detach, consoleSocket: o.consoleSocket,
    preserveFds: o.preserveFds, procsFiles: l.state.cgroup?.procsFiles ?? [], seccomp, passwd,
  });
  if (o.dryRun) {
    (o.sinks ?? stdioSinks).out(printPlan(plan));
    return 0;
  }
  let launched: Awaited<ReturnType<typeof launch>> | undefined;
  const pending: NodeJS.Signals[] = []; // arrived before we held the handle: delivered right after
  if (!o.detach) for (const s of FORWARDED) process.on(s, () => (launched ? launched.kill(s) : pending.push(s)));
  launched = await launch(plan, { preserveFds: o.preserveFds });
  for (const s of pending) launched.kill(s);
  if (launched.error) throw launched.error;
  if (o.pidFile) writePidFile(o.pidFile, launched.initPid);
  if (o.detach) return 0;
  return launched.exited;
}

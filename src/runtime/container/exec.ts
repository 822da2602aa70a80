// `berth exec`: run another process in a running container — its namespaces, cgroups, and
// (unless overridden) its process settings: user, capabilities, no_new_privs, seccomp, env.
import fs from "node:fs";
import path from "node:path";
import type { ContainerCgroup } from "../cgroups/types.ts";
import { checkLsm } from "./lsm.ts";
import { BerthError, configError } from "../errors.ts";
import type { Process, Spec } from "../spec/types.ts";
import { compileExecPlan } from "../plan/exec.ts";
import { joinsFor, type CgroupJoin } from "../plan/cgroup-join.ts";
import { printPlan } from "../plan/print.ts";
import { launch, type LaunchOptions } from "../executor/launch.ts";
import { loadContainer } from "./lifecycle.ts";
import { compileSeccompCached } from "../seccomp/cache.ts";
import { FORWARDED, seccompNotify, writePidFile } from "./run.ts";
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
  /** exec into a paused container too (the process then waits for `resume`) */
  ignorePaused?: boolean;
  /** runc's --cgroup: [controller[,controller...]:]path, below the container's cgroup */
  cgroups?: string[];
  /** where dry-run output goes (default: stdout) */
  sinks?: Sinks;
  /** run the executor under this argv prefix (berthd's monitor; see LaunchOptions.wrap) */
  wrap?: string[];
  /** with `wrap`: a sealed copy of the executor to run (LaunchOptions.executorFd) */
  executorFd?: number;
  /** with `wrap`: who starts it (LaunchOptions.spawnWrapper) */
  spawnWrapper?: LaunchOptions["spawnWrapper"];
}

/** The container's config as created (berth saves a copy next to its state). */
export function savedSpec(root: string, id: string): Spec {
  try {
    return JSON.parse(fs.readFileSync(`${root}/${id}/config.json`, "utf8"));
  } catch (e) {
    throw new BerthError(`cannot read the saved config of container ${JSON.stringify(id)}: ${(e as Error).message}`, { phase: "exec" });
  }
}

/**
 * runc's `exec --cgroup`: one path for every hierarchy, or controller:path pairs (a few
 * controllers may share one path: cpu,memory:sub); hierarchies not named keep the container's
 * own cgroup. The sub-cgroup must exist and stay below the container's.
 */
export function subCgroupJoins(cg: ContainerCgroup | undefined, args: string[]): CgroupJoin[] {
  const bad = (arg: string, why: string) => new BerthError(`--cgroup ${JSON.stringify(arg)}: ${why}`, { phase: "args" });
  if (!cg) throw bad(args[0]!, "the container has no cgroup");
  const byController = new Map<string, string>();
  let all: string | undefined;
  for (const arg of args) {
    const parts = arg.split(":");
    if (parts.length > 2) throw bad(arg, "expected [controller[,controller]:]path");
    const sub = parts[parts.length - 1]!;
    const norm = path.posix.normalize(`/${sub}`);
    if (!sub || norm === "/" || sub.split("/").includes("..")) throw bad(arg, "expected a path below the container's cgroup");
    if (parts.length === 1) {
      if (args.length !== 1) throw bad(arg, "a path without a controller: prefix must be the only --cgroup");
      all = norm;
      continue;
    }
    for (const c of parts[0]!.split(",")) {
      if (!c) throw bad(arg, "empty controller name");
      if (byController.has(c)) throw bad(arg, `controller ${c} given more than once`);
      const known = cg.hierarchies.some((h) => h.controllers.includes(c)) || (c === "unified" && cg.hierarchies.some((h) => h.version === 2));
      if (!known) {
        const v1 = [...new Set(cg.hierarchies.flatMap((h) => h.controllers))];
        throw bad(arg, v1.length ? `unknown cgroup controller ${c} (the container's: ${v1.join(", ")})` : "cgroup v2 has a single hierarchy: give the path without a controller");
      }
      byController.set(c, norm);
    }
  }
  return joinsFor(cg.hierarchies, (hh) => {
    const sub = all ?? hh.controllers.map((c) => byController.get(c)).find((x) => x !== undefined) ?? (hh.version === 2 ? byController.get("unified") : undefined);
    const dir = sub ? `${hh.dir}${sub}` : hh.dir;
    if (sub && !fs.existsSync(`${dir}/cgroup.procs`)) throw bad(args.join(" "), `no cgroup ${dir} (the sub-cgroup must exist)`);
    return dir;
  });
}

export async function execInContainer(o: ExecOptions): Promise<number> {
  const l = loadContainer(o.root, o.id);
  // As runc: a created container (its init waiting on the fifo) takes an exec; a paused one
  // only with --ignore-paused, since the process freezes as it joins the cgroup.
  const ok = l.status === "running" || l.status === "created" || (l.status === "paused" && o.ignorePaused);
  if (!ok) {
    throw new BerthError(`cannot exec in container ${JSON.stringify(o.id)}: it is ${l.status}`, {
      phase: "exec", hint: l.status === "paused" ? "resume it first, or pass --ignore-paused" : undefined,
    });
  }
  const joins = o.cgroups?.length ? subCgroupJoins(l.state.cgroup, o.cgroups) : joinsFor(l.state.cgroup?.hierarchies ?? []);
  const spec = savedSpec(o.root, o.id);
  const proc = o.process;
  if (proc.terminal && o.detach && !o.consoleSocket) {
    throw configError("process.terminal", "cannot allocate a terminal for a detached process without --console-socket");
  }
  checkLsm(proc, undefined);
  const compiled = spec.linux?.seccomp ? await compileSeccompCached(spec.linux.seccomp, "linux.seccomp", `${o.root}/.cache/seccomp`, !o.dryRun) : undefined;
  // An exec'd process gets its own listener, sent to the agent as runc does (status running).
  const notify = compiled && seccompNotify(spec, o.id, l.state.bundle, "running");
  const seccomp = compiled && notify ? { ...compiled, notify } : compiled;
  const passwd = () => {
    try {
      return fs.readFileSync(`${l.state.rootfs}/etc/passwd`, "utf8");
    } catch {
      return undefined; // no passwd: HOME=/
    }
  };
  const plan = compileExecPlan({
    spec, process: proc, initPid: l.state.pid, detach: !!o.detach, consoleSocket: o.consoleSocket,
    preserveFds: o.preserveFds, joins, seccomp, passwd,
  });
  if (o.dryRun) {
    (o.sinks ?? stdioSinks).out(printPlan(plan));
    return 0;
  }
  let launched: Awaited<ReturnType<typeof launch>> | undefined;
  const pending: NodeJS.Signals[] = []; // arrived before we held the handle: delivered right after
  if (!o.detach) for (const s of FORWARDED) process.on(s, () => (launched ? launched.kill(s) : pending.push(s)));
  launched = await launch(plan, { preserveFds: o.preserveFds, wrap: o.wrap, executorFd: o.executorFd, spawnWrapper: o.spawnWrapper });
  for (const s of pending) launched.kill(s);
  if (launched.error) throw launched.error;
  if (o.pidFile) writePidFile(o.pidFile, launched.initPid);
  if (o.detach) return 0;
  return launched.exited;
}

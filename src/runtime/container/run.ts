// The runtime as a library: run a container from a bundle. The CLI's `run` (and later berthd)
// call this. Every failure path undoes what was done: no state dir, cgroup or process is left.
import fs from "node:fs";
import path from "node:path";
import { BerthError, configError } from "../errors.ts";
import type { Spec } from "../spec/types.ts";
import { compilePlan, type CompileInput } from "../plan/compile.ts";
import { printPlan } from "../plan/print.ts";
import type { Plan } from "../plan/types.ts";
import { claimId, procStartTime, removeContainerDir, writeState, type ContainerState } from "../state/index.ts";
import { launch, type Launched } from "../executor/launch.ts";
import { CgroupSetup } from "./cgroup.ts";
import { mark } from "../trace.ts";
import { stdout } from "../../cli/output.ts";

export interface RunOptions {
  id: string;
  bundle: string;
  spec: Spec;
  root: string;
  detach?: boolean;
  noPivot?: boolean;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds?: number;
  keep?: boolean;
  dryRun?: boolean;
  systemdCgroup?: boolean;
}

const hostView: CompileInput["host"] = {
  kind(p) {
    try {
      const st = fs.statSync(p);
      return st.isDirectory() ? "dir" : st.isFile() ? "file" : "other";
    } catch {
      return "missing";
    }
  },
  readFile(p) {
    try {
      return fs.readFileSync(p, "utf8");
    } catch {
      return undefined;
    }
  },
};

function resolveRootfs(bundle: string, spec: Spec): string {
  if (!spec.root?.path) throw configError("root.path", "no root filesystem given", 'set root.path (usually "rootfs")');
  const rootfs = path.resolve(bundle, spec.root.path);
  let st: fs.Stats;
  try {
    st = fs.statSync(rootfs);
  } catch {
    throw configError("root.path", `rootfs ${rootfs} does not exist`, "create it, e.g. by exporting an image into it");
  }
  if (!st.isDirectory()) throw configError("root.path", `rootfs ${rootfs} is not a directory`);
  // The executor resolves mounts inside the real path; a symlinked rootfs must not move.
  return fs.realpathSync(rootfs);
}

async function compileSeccomp(spec: Spec) {
  if (!spec.linux?.seccomp) return undefined;
  const { compileSeccomp } = await import("../seccomp/index.ts");
  return compileSeccomp(spec.linux.seccomp, "linux.seccomp");
}

function writePidFile(file: string, pid: number): void {
  const abs = path.resolve(file);
  const tmp = `${abs}.berth-tmp`;
  try {
    fs.writeFileSync(tmp, String(pid));
    fs.renameSync(tmp, abs);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new BerthError(`cannot write pid file ${abs}: ${(e as Error).message}`, { phase: "pid-file", errno: (e as NodeJS.ErrnoException).code });
  }
}

/** Everything up to the plan: validation and decisions only; nothing on the host changes. */
export async function preparePlan(o: RunOptions, cgroups: CgroupSetup, mode: "foreground" | "detach" | "create"): Promise<{ plan: Plan; rootfs: string }> {
  const spec = o.spec;
  const rootfs = resolveRootfs(o.bundle, spec);
  const terminal = spec.process?.terminal ?? false;
  if (terminal && mode !== "foreground" && !o.consoleSocket) {
    throw configError("process.terminal", "cannot allocate a terminal for a detached container without --console-socket",
      "pass --console-socket, or set process.terminal to false");
  }
  if (!terminal && o.consoleSocket) {
    throw configError("process.terminal", "--console-socket was given but process.terminal is false");
  }
  const seccomp = await compileSeccomp(spec);
  const plan = compilePlan({
    spec, bundle: o.bundle, rootfs, mode, noPivot: o.noPivot, consoleSocket: o.consoleSocket,
    preserveFds: o.preserveFds, seccomp, host: hostView, cgroup: cgroups.forPlan(),
  });
  plan.notes.unshift(...cgroups.notes());
  return { plan, rootfs };
}

export async function runContainer(o: RunOptions): Promise<number> {
  const mode = o.detach ? "detach" : "foreground";
  const cgroups = new CgroupSetup(o.id, o.spec, o.systemdCgroup ?? false);
  if (o.dryRun) {
    const { plan } = await preparePlan(o, cgroups, mode);
    stdout(printPlan(plan));
    return 0;
  }
  // Decide everything before touching the host, so bad input leaves nothing behind.
  const { plan, rootfs } = await preparePlan(o, cgroups, mode);
  mark("plan ready");
  const dir = claimId(o.root, o.id);
  let launched: Launched | undefined;
  const undo = () => {
    if (launched?.initPid) {
      try {
        process.kill(launched.initPid, "SIGKILL");
      } catch { /* gone */ }
    }
    cgroups.destroy();
    removeContainerDir(o.root, o.id);
  };
  try {
    cgroups.create();
    mark("cgroup created");
    // Forward signals sent to berth to the container (through the executor's stage 0).
    const forward = (sig: NodeJS.Signals) => launched?.kill(sig);
    const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];
    if (mode === "foreground") for (const s of signals) process.on(s, () => forward(s));

    launched = await launch(plan, { preserveFds: o.preserveFds });
    mark(launched.error ? "setup failed" : "container process started");
    if (launched.error) throw launched.error;
    const state: ContainerState = {
      ociVersion: o.spec.ociVersion, id: o.id, pid: launched.initPid,
      pidStartTime: procStartTime(launched.initPid) ?? "", bundle: o.bundle, rootfs,
      created: new Date().toISOString(), owner: "", annotations: o.spec.annotations ?? {},
      cgroup: cgroups.stateInfo(), created_by: "run", monitorPid: mode === "foreground" ? launched.monitorPid : undefined,
      keep: o.keep,
    };
    writeState(dir, state);
    if (o.pidFile) writePidFile(o.pidFile, launched.initPid);
    if (mode === "detach") return 0;

    const code = await launched.exited;
    mark("container exited");
    if (!o.keep) {
      cgroups.killAll();
      cgroups.destroy();
      removeContainerDir(o.root, o.id);
      mark("cleaned up");
    }
    return code;
  } catch (e) {
    undo();
    throw e;
  }
}

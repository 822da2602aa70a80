// What a container's start hands the runtime, decided from its record: the monitor's files in
// the run dir, and the spec with the real paths (buildSpec at phase "start", with the image's
// passwd and group). Kept apart from the service, which sequences the start.
import fs from "node:fs";
import type { Spec } from "../../runtime/spec/types.ts";
import type { RunOptions } from "../../runtime/container/run.ts";
import type { SpecBuilder } from "./deps.ts";
import { ensureWorkdir } from "../rootfs/workdir.ts";
import { logsRead } from "./logopts.ts";
import type { ContainerRecord, Json } from "./store.ts";

/** What building a start's inputs needs of the container service. */
export interface StartContext {
  dir(id: string): string;
  runDir(id: string): string;
  logPath(id: string): string;
  buildSpec: SpecBuilder;
  imageConfig(c: ContainerRecord): Json;
  cgroupsPath(id: string, hostConfig: Json): string;
  /** the runtime's state directory (RunOptions.root) */
  runtimeRoot(): string;
}

/** The monitor's files for a run of `c`, in its run dir. */
export function monitorPaths(ctx: StartContext, c: ContainerRecord) {
  const run = ctx.runDir(c.id);
  return {
    exitFile: `${run}/exit.json`, pidFile: `${run}/init.pid`, logFile: logsRead(c) ? ctx.logPath(c.id) : undefined,
    attachSocket: `${run}/attach.sock`, consoleSocket: c.config.Tty ? `${run}/console.sock` : undefined,
  };
}

/** The spec a start of `c` runs, with the real paths, and buildSpec's warnings. */
export function startSpec(ctx: StartContext, c: ContainerRecord, rootfs: string): { spec: Spec; warnings: string[] } {
  const read = (p: string) => {
    try {
      return fs.readFileSync(`${rootfs}${p}`, "utf8");
    } catch {
      return undefined;
    }
  };
  const dir = ctx.dir(c.id);
  return ctx.buildSpec({
    id: c.id, config: c.config, hostConfig: c.hostConfig, image: ctx.imageConfig(c), rootfs,
    files: { hostsPath: `${dir}/hosts`, hostnamePath: `${dir}/hostname`, resolvConfPath: `${dir}/resolv.conf` },
    cgroupsPath: ctx.cgroupsPath(c.id, c.hostConfig), passwd: read("/etc/passwd"), group: read("/etc/group"), phase: "start",
  });
}

/** startSpec, and the working directory made in the rootfs (as dockerd does at start). */
export function prepareStart(ctx: StartContext, c: ContainerRecord, rootfs: string): { spec: Spec; warnings: string[] } {
  const built = startSpec(ctx, c, rootfs);
  const cwd = built.spec.process?.cwd;
  if (cwd && cwd !== "/") ensureWorkdir(rootfs, cwd);
  return built;
}

/** What runContainer gets for a start of `c` with `spec`, but for the monitor and the callbacks. */
export function runInputs(ctx: StartContext, c: ContainerRecord, spec: Spec): RunOptions {
  const paths = monitorPaths(ctx, c);
  return { id: c.id, bundle: ctx.dir(c.id), spec, root: ctx.runtimeRoot(), pidFile: paths.pidFile, detach: true, consoleSocket: paths.consoleSocket };
}

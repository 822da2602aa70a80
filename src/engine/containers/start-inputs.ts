// What a container's start hands the runtime, decided from its record: the monitor's files in
// the run dir, and the spec with the real paths (buildSpec at phase "start", with the image's
// passwd and group). Kept apart from the service, which sequences the start.
import fs from "node:fs";
import type { Spec } from "../../runtime/spec/types.ts";
import type { RunOptions } from "../../runtime/container/run.ts";
import type { SpecBuilder } from "./deps.ts";
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

/** What runContainer gets for a start of `c` with `spec`, but for the monitor and the callbacks. */
export function runInputs(ctx: StartContext, c: ContainerRecord, spec: Spec): RunOptions {
  const paths = monitorPaths(ctx, c);
  return { id: c.id, bundle: ctx.dir(c.id), spec, root: ctx.runtimeRoot(), pidFile: paths.pidFile, detach: true, consoleSocket: paths.consoleSocket };
}

/**
 * Start specs built ahead, between a container's create and its first start (the time the CLI
 * takes to send it), for that start to take: from the same record (its config objects the
 * same) and soon enough, as the spec read the rootfs's passwd and group when it was built.
 */
export class SpecsAhead {
  private byId = new Map<string, { spec: Spec; warnings: string[]; config: Json; hostConfig: Json; generation: number; at: number }>();

  constructor(readonly maxAgeMs = 1000) {}

  put(c: ContainerRecord, built: { spec: Spec; warnings: string[] }): void {
    this.byId.set(c.id, { ...built, config: c.config, hostConfig: c.hostConfig, generation: c.generation, at: performance.now() });
    // not taken: let go of it (a create never started keeps nothing)
    setTimeout(() => this.drop(c.id), this.maxAgeMs + 100).unref?.();
  }

  take(c: ContainerRecord): { spec: Spec; warnings: string[] } | undefined {
    const a = this.byId.get(c.id);
    this.byId.delete(c.id);
    if (!a || a.config !== c.config || a.hostConfig !== c.hostConfig || a.generation !== c.generation) return undefined;
    return performance.now() - a.at <= this.maxAgeMs ? a : undefined;
  }

  drop(id: string): void {
    this.byId.delete(id);
  }
}

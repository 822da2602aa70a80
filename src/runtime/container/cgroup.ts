// The container's cgroup through its life in `run`: planned first (paths only, so --dry-run and
// the plan know where the init goes), created just before the executor starts, destroyed after.
import fs from "node:fs";
import type { Mount, Spec } from "../spec/types.ts";
import type { ExpandedMount } from "../plan/compile.ts";
import { MS } from "../linux.ts";
import { joinsFor } from "../plan/cgroup-join.ts";
import {
  candidatePids, cgroupMounts, createCgroup, destroyCgroup, detectLayout, planHierarchies, resolveCgroupPath,
  type CgroupLayout, type ContainerCgroup,
} from "../cgroups/index.ts";
import { containerPids, signalPids, type Owner } from "./signal.ts";

export class CgroupSetup {
  private layout: CgroupLayout;
  private path: string;
  private planned: ContainerCgroup;
  private cg?: ContainerCgroup;

  constructor(private id: string, private spec: Spec, private systemd: boolean) {
    this.layout = detectLayout();
    this.path = resolveCgroupPath(id, spec.linux?.cgroupsPath, systemd);
    const hierarchies = planHierarchies(this.layout, this.path);
    const dirs = [...new Set(hierarchies.map((h) => h.dir))];
    this.planned = {
      path: this.path, dirs, procsFiles: dirs.map((d) => `${d}/cgroup.procs`), hierarchies, created: [], warnings: [],
    };
  }

  /** What the plan needs: where the init goes, and how a `cgroup` mount expands. */
  forPlan() {
    return {
      joins: joinsFor(this.planned.hierarchies),
      expandMount: (m: Mount, _flags: number, cgroupns: boolean) => {
        const plan = cgroupMounts(this.layout, this.planned, { destination: m.destination, options: m.options, cgroupns });
        const mounts: ExpandedMount[] = plan.mounts.map((p) => ({
          source: p.source, destination: p.destination, fstype: p.kind === "bind" ? "" : p.fstype,
          flags: p.kind === "bind" ? p.flags | MS.BIND | MS.REC : p.flags, data: p.data,
          propagation: p.propagation, mkdirType: p.mkdirType,
        }));
        // Read-only last: the sub-mounts need their mount points created in the tmpfs first.
        const remounts: ExpandedMount[] = plan.readonlyRemounts.map((dest) => ({
          source: "", destination: dest, fstype: "", flags: MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC, data: "",
        }));
        return { mounts, symlinks: plan.symlinks.map((s) => [s.target, s.path] as [string, string]), remounts };
      },
    };
  }

  notes(): string[] {
    return [`cgroup ${this.path} (${this.layout.mode}): ${this.planned.dirs.join(", ")}`, ...this.planned.warnings.map((w) => `cgroup warning: ${w}`)];
  }

  create(): void {
    this.cg = createCgroup(this.layout, this.id, this.spec.linux, { systemdCgroup: this.systemd });
  }

  /** SIGKILL the container's processes left in its cgroups (signal.ts decides which are its). */
  killAll(owner: Owner | undefined): void {
    if (!this.cg) return;
    signalPids(containerPids(owner, candidatePids(this.layout, this.cg)), "SIGKILL");
  }

  destroy(): void {
    if (!this.cg) return;
    destroyCgroup(this.layout, this.cg);
    this.cg = undefined;
  }

  /** What later commands (delete, pause, update, ps) need to find the cgroup again. */
  stateInfo(): ContainerCgroup {
    return this.cg ?? this.planned;
  }

  /**
   * Before create(): the plan, with `created` naming the directories that do not exist yet (and
   * so are berth's to make), for the provisional state a killed create leaves behind.
   */
  provisional(): ContainerCgroup {
    if (this.cg) return this.cg;
    const missing = new Set<string>();
    for (const h of this.planned.hierarchies) {
      for (let d = h.dir; d.length > h.mountpoint.length && d.startsWith(h.mountpoint); d = d.slice(0, d.lastIndexOf("/"))) {
        if (!fs.existsSync(d)) missing.add(d);
      }
    }
    return { ...this.planned, created: [...missing].sort((a, b) => a.length - b.length) };
  }

  warnings(): string[] {
    return this.cg?.warnings ?? [];
  }
}

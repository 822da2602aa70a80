// TEMPORARY stub while the cgroups module lands.
import type { Spec, Mount } from "../spec/types.ts";
export class CgroupSetup {
  constructor(public id: string, public spec: Spec, public systemd: boolean) {}
  forPlan() {
    return { procsFiles: [] as string[], expandMount: (m: Mount, flags: number) => ({ mounts: [{ source: "tmpfs", destination: m.destination, fstype: "tmpfs", flags, data: "mode=755" }], symlinks: [] as [string, string][] }) };
  }
  notes(): string[] { return []; }
  create() {}
  destroy() {}
  killAll() {}
  stateInfo() { return undefined; }
}

// berth pause <container-id>: freeze every process of the container (its cgroup's freezer).
import type { Globals } from "../main.ts";
import { oneId } from "./common.ts";
import { pauseContainer } from "../../runtime/container/pause.ts";

export async function run(argv: string[], g: Globals): Promise<number> {
  const id = oneId(argv, "pause", "usage: berth pause <container-id>\n\nSuspends every process of a running (or created) container; `berth resume` continues them.\n");
  if (id === undefined) return 0;
  pauseContainer(g.root, id);
  return 0;
}

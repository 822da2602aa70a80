// berth state <container-id>: the OCI state of a container, as JSON.
import type { Globals } from "../main.ts";
import { oneId } from "./common.ts";
import { loadContainer, ociState } from "../../runtime/container/lifecycle.ts";
import { stdout } from "../output.ts";

export async function run(argv: string[], g: Globals): Promise<number> {
  const id = oneId(argv, "state", "usage: berth state <container-id>\n\nPrints the container's state (status: created, running, paused or stopped).\n");
  if (id === undefined) return 0;
  stdout(JSON.stringify(ociState(loadContainer(g.root, id)), null, 2) + "\n");
  return 0;
}

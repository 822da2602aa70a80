// berth start <container-id>: let a created container's process run.
import type { Globals } from "../main.ts";
import { oneId } from "./common.ts";
import { startContainer } from "../../runtime/container/lifecycle.ts";

export async function run(argv: string[], g: Globals): Promise<number> {
  const id = oneId(argv, "start", "usage: berth start <container-id>\n\nStarts the process of a created container.\n");
  if (id === undefined) return 0;
  await startContainer(g.root, id);
  return 0;
}

// berth resume <container-id>: thaw a container that `berth pause` froze.
import type { Globals } from "../main.ts";
import { oneId } from "./common.ts";
import { resumeContainer } from "../../runtime/container/pause.ts";

export async function run(argv: string[], g: Globals): Promise<number> {
  const id = oneId(argv, "resume", "usage: berth resume <container-id>\n\nResumes every process of a paused container.\n");
  if (id === undefined) return 0;
  resumeContainer(g.root, id);
  return 0;
}

// Every route berthd serves, registered in one place (berthd -D logs each, as dockerd does).
import { Router } from "../router.ts";
import type { Engine } from "../../engine.ts";
import * as system from "./system.ts";
import * as containers from "./containers.ts";
import * as images from "./images.ts";
import * as events from "./events.ts";
import * as exec from "./exec.ts";
import * as unsupported from "./unsupported.ts";

export function buildRouter(engine: Engine): Router {
  const r = new Router();
  system.register(r, engine);
  containers.register(r, engine);
  images.register(r, engine);
  events.register(r, engine);
  exec.register(r, engine);
  unsupported.register(r); // last: a real route of the same path wins
  return r;
}

// POST /containers/{id}/wait, as dockerd answers it: not-running at once unless running (with
// the error of a failed start); next-exit at the next exit, which a failed start is not (the
// wait stays, as `docker run` expects); removed when the container is gone. Removal answers
// every wait, without an error.
import type { EventEmitter } from "node:events";
import type { ContainerRecord } from "./store.ts";

export type Condition = "not-running" | "next-exit" | "removed";
export interface WaitResult { StatusCode: number; Error: { Message: string } | null }

/** `events`: the container service's "exit"(c) and "destroy"(c); `cancelled`: the client went away. */
export function waitFor(events: EventEmitter, c: ContainerRecord, condition: Condition, cancelled: () => boolean): Promise<WaitResult> {
  const result = (x: ContainerRecord) => ({ StatusCode: x.state.ExitCode, Error: x.state.Error && !x.state.Running ? { Message: x.state.Error } : null });
  if (condition === "not-running" && !c.state.Running) return Promise.resolve(result(c));
  return new Promise((resolve) => {
    const cleanup = () => {
      events.off("exit", onExit);
      events.off("destroy", onDestroy);
      clearInterval(poll);
    };
    const onExit = (x: ContainerRecord) => {
      if (x.id !== c.id || condition === "removed") return;
      cleanup();
      resolve(result(x));
    };
    const onDestroy = (x: ContainerRecord) => {
      if (x.id !== c.id) return;
      cleanup();
      resolve({ StatusCode: x.state.ExitCode, Error: null });
    };
    // A client that goes away stops waiting (docker run -d drops its wait).
    const poll = setInterval(() => {
      if (cancelled()) {
        cleanup();
        resolve(result(c));
      }
    }, 500);
    events.on("exit", onExit);
    events.on("destroy", onDestroy);
  });
}

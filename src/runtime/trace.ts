// BERTH_TRACE=1 prints how long each phase of a command took (ms since the process started),
// so slowness can be explained rather than guessed at. BERTH_TRACE=abs prints wall-clock times
// too, and BERTH_TRACE=/some/file appends them there: berthd, its monitors and the executor
// (native/executor, which reads the same variable) then write one timeline. Costs nothing
// when unset.
import { openSync, writeSync } from "node:fs";

const on = process.env.BERTH_TRACE;
const toFile = on?.startsWith("/");
let fd = 2;
if (toFile) {
  try {
    fd = openSync(on!, "a");
  } catch { /* trace to stderr then */ }
}

/** Whether marks are written: a caller can skip building a label that would go nowhere. */
export const tracing = !!on;

export function mark(label: string): void {
  if (!on) return;
  const wall = on === "abs" || toFile ? ` @${(performance.timeOrigin + performance.now()).toFixed(1)}` : "";
  writeSync(fd, `berth trace: ${performance.now().toFixed(1).padStart(7)} ms  ${label}${wall}\n`);
}

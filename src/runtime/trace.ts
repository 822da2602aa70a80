// BERTH_TRACE=1 prints how long each phase of a command took (ms since the process started),
// so slowness can be explained rather than guessed at. Costs nothing when unset.
import { writeSync } from "node:fs";

const on = process.env.BERTH_TRACE;

export function mark(label: string): void {
  if (on) writeSync(2, `berth trace: ${performance.now().toFixed(1).padStart(7)} ms  ${label}${on === "abs" ? ` @${(performance.timeOrigin + performance.now()).toFixed(1)}` : ""}\n`);
}

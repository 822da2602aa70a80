// `berth start` must fail when the container process never runs: the init performs its last
// steps (startContainer hooks, seccomp, exec) only after `start` wrote the exec fifo, when the
// `create` that could hear its reports is long gone. So the init reports on the fifo itself
// (16-byte records, as on the control socket), and its end of the fifo closes when it execs or
// dies. Nobody waits for the init but its reaper, so a death is seen in /proc, by its name: until
// it execs the init is called "berth/init", a name exec never gives.
import fs from "node:fs";
import { BerthError } from "../errors.ts";
import { diedError, stepError } from "../plan/errors.ts";
import type { Plan, Step } from "../plan/types.ts";

const REPORT = { error: 2, phase: 8 } as const;
const INIT_COMM = "berth/init";
export const START_STEPS_FILE = "start-steps.json";

type StepInfo = Pick<Step, "op" | "text" | "field"> & { args: Record<string, string | number> };

/** What `start` needs to word an error of the steps after the exec fifo (kept in the state dir). */
export function startSteps(plan: Plan): Record<number, StepInfo> {
  const out: Record<number, StepInfo> = {};
  const from = plan.steps.findIndex((s) => s.op === "waitFifo");
  if (from < 0) return out;
  plan.steps.forEach((s, i) => {
    if (i < from) return;
    const args: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(s.args)) if (typeof v === "string" || typeof v === "number") args[k] = v;
    out[i] = { op: s.op, text: s.text, field: s.field, args };
  });
  return out;
}

function readSteps(dir: string): Pick<Plan, "steps"> {
  const steps: Step[] = [];
  try {
    const saved = JSON.parse(fs.readFileSync(`${dir}/${START_STEPS_FILE}`, "utf8")) as Record<string, StepInfo>;
    for (const [i, s] of Object.entries(saved)) steps[Number(i)] = s as Step;
  } catch { /* created by an older berth: errors are worded without the step */ }
  return { steps };
}

/** name and wait status (field 52, "exit_code") of a process; undefined once it is reaped */
function procInfo(pid: number): { comm: string; zombie: boolean; status: number } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const open = stat.indexOf("("), close = stat.lastIndexOf(")");
    const rest = stat.slice(close + 2).split(" ");
    return { comm: stat.slice(open + 1, close), zombie: rest[0] === "Z" || rest[0] === "X", status: Number(rest[49] ?? 0) };
  } catch {
    return undefined;
  }
}

/**
 * Writes the start byte into the fifo and follows the init until it has exec'd (returns) or
 * failed (throws its error). `wfd` is the fifo opened write-only, non-blocking. The fifo is read
 * as a stream (woken by the kernel, not polled), so `start` answers the moment the init execs,
 * and berthd serves other requests meanwhile.
 */
export async function startAndWatch(fifo: string, wfd: number, pid: number, dir: string): Promise<void> {
  const rfd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const reader = Bun.file(rfd).stream().getReader();
  let timer: ReturnType<typeof setInterval> | undefined;
  let giveUp: ReturnType<typeof setTimeout> | undefined;
  try {
    fs.writeSync(wfd, "0");
    let writerOpen = true;
    const closeWriter = () => {
      if (writerOpen) fs.closeSync(wfd);
      writerOpen = false;
    };
    let buf = Buffer.alloc(0);
    let phase = 0, phaseStep = -1;
    let error: BerthError | undefined;
    const steps = readSteps(dir);
    // An init that died before taking the byte leaves us the only writer, so no EOF would come;
    // an init of an older berth neither reports here nor carries the name. /proc tells both:
    // then our writer closes (EOF follows), and after a moment we stop listening at all.
    const stop = new Promise<"stop">((resolve) => {
      timer = setInterval(() => {
        const info = procInfo(pid);
        if (info && !info.zombie && info.comm === INIT_COMM) return;
        clearInterval(timer);
        closeWriter();
        giveUp = setTimeout(() => resolve("stop"), 50);
      }, 2);
    });
    for (;;) {
      const r = await Promise.race([reader.read(), stop]);
      if (r === "stop" || r.done) break; // the init's end closed: it exec'd or died
      buf = Buffer.concat([buf, r.value]);
      // We raced the init for our own start byte: give it back.
      if (buf[0] === 0x30) {
        buf = buf.subarray(1);
        if (writerOpen) fs.writeSync(wfd, "0");
      }
      while (buf.length >= 16) {
        const kind = buf.readInt32LE(0), step = buf.readInt32LE(4), errno = buf.readInt32LE(8), value = buf.readInt32LE(12);
        buf = buf.subarray(16);
        // The init has the byte: close our writer, so that its exec (or death) ends the file.
        if (kind === REPORT.phase) {
          closeWriter();
          if (value) [phase, phaseStep] = [value, step];
        } else if (kind === REPORT.error) error ??= stepError(steps as Plan, step, errno, value);
      }
    }
    closeWriter();
    if (error) throw error;
    const info = procInfo(pid);
    if (info && info.comm === INIT_COMM) {
      // Still named as before exec: it died (or is dying) before its program ran.
      for (let i = 0; i < 200 && !procInfo(pid)?.zombie && procInfo(pid); i++) await Bun.sleep(1);
      const status = procInfo(pid)?.status ?? 0;
      throw diedError(steps, phaseStep, phase, status);
    }
  } finally {
    clearInterval(timer);
    clearTimeout(giveUp);
    reader.cancel().catch(() => {});
    fs.closeSync(rfd);
  }
}

// Spawns the C executor, hands it the plan, and turns its reports into events.
import { mark } from "../trace.ts";
import fs from "node:fs";
import { BerthError } from "../errors.ts";
import { writeAll } from "../io.ts";
import { planBytes } from "../plan/encode.ts";
import { diedError, stepError } from "../plan/errors.ts";
import type { Plan } from "../plan/types.ts";

/**
 * Where one of native/'s programs is ("executor/berth-executor"): the environment variable's
 * value (a packaged install, a debug build), else relative to this file, in the sources
 * (src/runtime/executor/) or in a start-up bundle (.cache/).
 */
export function nativeProgram(relative: string, envVar: string): string {
  const given = process.env[envVar];
  if (given) return given;
  const fromSource = new URL(`../../../native/${relative}`, import.meta.url).pathname;
  return fs.existsSync(fromSource) ? fromSource : new URL(`../native/${relative}`, import.meta.url).pathname;
}
export const EXECUTOR_PATH = nativeProgram("executor/berth-executor", "BERTH_EXECUTOR");

const REPORT = { pid: 1, error: 2, started: 3, ready: 4, hooks: 5, commit: 6, died: 7 } as const;

export interface Launched {
  /** host pid of the container init */
  initPid: number;
  /** set when setup failed; the init is gone (or going) */
  error?: BerthError;
  /** exit status of stage 0: the container's status in foreground mode */
  exited: Promise<number>;
  kill(signal: number | NodeJS.Signals): void;
}

export interface LaunchOptions {
  /** berth's own fds 3..3+n-1 passed to the container (--preserve-fds) */
  preserveFds?: number;
  stdio?: ["inherit" | "ignore", "inherit" | "ignore", "inherit" | "ignore"];
  /**
   * The init paused with its namespaces created (plan step hookPoint): run the host-side hooks,
   * and return the state JSON the init's own hooks get on stdin. A throw aborts the start.
   */
  onHookPoint?: (initPid: number) => Promise<Uint8Array>;
  /**
   * An argv prefix that runs the executor for us (berthd's monitor): spawned as
   * [...wrap, "--keep-fd", ctl, "--", executor, ctl] with no stdio of ours; it gives the
   * executor the container's stdio and outlives this process. `exited` is then the wrapper's.
   */
  wrap?: string[];
  /**
   * With `wrap`: an fd of a sealed copy of the executor that the wrapper (berth-monitor
   * --exec-fd) runs instead of the file, so the executor need not make its own sealed copy
   * (CVE-2019-5736) on every start. A long-running caller (berthd) makes it once.
   */
  executorFd?: number;
  /**
   * With `wrap`: starts the wrapper for us instead of Bun's spawn, whose vfork holds the caller's
   * thread until the child has exec'd (berthd's spawner, engine/monitor/spawner.ts). The
   * wrapper gets `fds` as its fds 3, 4, ...: fd 3 the other end of the control socket it makes.
   */
  spawnWrapper?: (argv: string[], fds: number[]) => Promise<SpawnedWrapper>;
  /** The executor runs (its pid): record it before it can do anything (a wrapped one: once it has its plan). */
  onSpawn?: (executorPid: number) => void;
  /**
   * Host work the plan does not depend on being done yet (making the cgroups). With an awaitGo
   * step in the plan it runs once the plan has gone, while the executor does its first steps,
   * and the executor opens the cgroups on our word after it; without one, while the executor
   * (and the wrapper before it) start, before the plan goes. A throw closes the control
   * socket: the executor exits, with nothing made but its own network namespace.
   */
  beforePlan?: () => void;
  /** Host work done while the executor carries out its plan, before the commit. Must not throw. */
  afterPlan?: () => void;
  /** The init exists (its host pid), still bound to berth's life. */
  onPid?: (initPid: number) => void;
  /**
   * The init is at its point of no return (plan step commit): from the answer on it may outlive
   * berth, so this records the container. A throw aborts: the executor kills the init.
   */
  onCommit?: (initPid: number) => Promise<void> | void;
}

/** A wrapper that spawnWrapper started: its pid and our end of its control socket (ours to close). */
export interface SpawnedWrapper {
  pid: number;
  ctl: number;
  exited: Promise<number>;
  kill(signal: number | NodeJS.Signals): void;
}

/**
 * The wrapper's argv: the executor after it, the control socket at fd `ctl` and (`sealed`) the
 * sealed copy of the executor right after it.
 */
function wrapperArgv(wrap: string[], sealed: boolean, ctl: number): string[] {
  return [...wrap, "--keep-fd", String(ctl), ...(sealed ? ["--keep-fd", String(ctl + 1), "--exec-fd", String(ctl + 1)] : []), "--", EXECUTOR_PATH, String(ctl)];
}

/**
 * A wrapper that gets no plan: the control socket closing tells its executor to exit, and the
 * wrapper (berthd's monitor, which would then record a failed setup and clear its files) is
 * killed and waited for, so that it cannot do that to the files of a next start.
 */
async function abandonWrapper(ctl: number, w: { kill(signal: NodeJS.Signals): void; exited: Promise<unknown> }): Promise<void> {
  fs.closeSync(ctl);
  w.kill("SIGKILL");
  await w.exited;
}

/** A wrapper started before its launch: see startWrapperEarly. */
export interface EarlyWrapper {
  /** For launch's spawnWrapper: hands over the early one when asked for what it was started with. */
  spawnWrapper: NonNullable<LaunchOptions["spawnWrapper"]>;
  /** launch did not take it (the start failed before): resolves once it is gone. */
  release(): Promise<void>;
}

/**
 * Starts the wrapper (and the executor in it) ahead of launch, while the caller still builds the
 * spec and the plan: the two programs exec on the other CPU meanwhile, and launch finds the
 * executor waiting for its plan. Nothing is shared before the plan: a caller that dies closes
 * the control socket and the executor exits; one that gives up kills the wrapper too (no
 * container is in it yet) and waits for it to go, as launch does when beforePlan fails.
 */
export function startWrapperEarly(spawn: NonNullable<LaunchOptions["spawnWrapper"]>, wrap: string[], executorFd?: number): EarlyWrapper {
  const argv = wrapperArgv(wrap, executorFd !== undefined, 3);
  const fds = executorFd !== undefined ? [executorFd] : [];
  let early: Promise<SpawnedWrapper> | undefined = spawn(argv, fds);
  early.catch(() => {}); // seen by launch when it takes it; nobody's when released
  const drop = async (w: Promise<SpawnedWrapper>) => {
    const x = await w.catch(() => undefined);
    if (x) await abandonWrapper(x.ctl, x);
  };
  const same = <T>(a: T[], b: T[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  return {
    spawnWrapper: async (a, f) => {
      const mine = early;
      early = undefined;
      if (mine && same(a, argv) && same(f, fds)) return mine;
      if (mine) await drop(mine);
      return spawn(a, f);
    },
    release: async () => {
      const mine = early;
      early = undefined;
      if (mine) await drop(mine);
    },
  };
}

/** berth's word to a plan's awaitGo step: the container's cgroups are made. */
const GO = new Uint8Array([0x47]);

/** The executor's reports as they arrive on the control socket, until it closes. */
interface Reports {
  next(): Promise<Uint8Array | undefined>;
  /** Still open: the fd may be written. */
  open(): boolean;
  close(): void;
}

/**
 * From a control socket that is ours (the spawner's socketpair): Bun's socket takes the fd over
 * and closes it with itself. Why not a file stream: Bun's stream of an fd allocates a 256 KB
 * buffer, a quarter of a megabyte more garbage per start and exec for a dozen 16-byte reports.
 */
async function socketReports(fd: number): Promise<Reports> {
  const queue: Uint8Array[] = [];
  let waiting: ((v: Uint8Array | undefined) => void) | undefined;
  let ended = false;
  const push = (v: Uint8Array | undefined) => {
    if (v === undefined) ended = true;
    const w = waiting;
    waiting = undefined;
    if (w) w(v);
    else if (v) queue.push(v);
  };
  const sock = await Bun.connect({
    fd,
    socket: {
      data: (_s: unknown, d: Uint8Array) => push(new Uint8Array(d)), // a copy: the chunk is Bun's to reuse
      end: () => push(undefined),
      close: () => push(undefined),
      error: () => push(undefined),
    },
  } as never) as unknown as { terminate(): void };
  return {
    next: () => (queue.length ? Promise.resolve(queue.shift()) : ended ? Promise.resolve(undefined) : new Promise((r) => (waiting = r))),
    open: () => !ended,
    close: () => {
      if (ended) return;
      ended = true;
      sock.terminate();
      push(undefined);
    },
  };
}

/**
 * From a control socket Bun's spawn made (its subprocess owns the fd), or (`own`) one of ours
 * that Bun's socket would not take: a file stream reads it, and closing lets go of it first.
 */
function fileReports(fd: number, own: boolean): Reports {
  const reader = Bun.file(fd).stream().getReader();
  let closed = false;
  return {
    next: async () => {
      const { value, done } = await reader.read();
      return done ? undefined : (value ?? new Uint8Array(0));
    },
    open: () => !closed,
    close: () => {
      if (closed) return;
      closed = true;
      void reader.cancel().catch(() => {}).then(() => {
        if (own) fs.closeSync(fd);
      });
    },
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Resolves once the container process has been exec'd (foreground/detach), is waiting on its exec
 * fifo (create), or setup failed (then `error` is set and the executor has exited).
 */
export async function launch(plan: Plan, opts: LaunchOptions = {}): Promise<Launched> {
  const preserve = opts.preserveFds ?? 0;
  const extra: number[] = [];
  for (let i = 0; i < preserve; i++) extra.push(3 + i);
  const ctlIndex = 3 + preserve;
  const sealed = !!opts.wrap && opts.executorFd !== undefined;
  const wrapArgv = (ctl: number) => wrapperArgv(opts.wrap!, sealed, ctl);
  const cannotRun = (e: unknown) => new BerthError(`cannot run the executor ${EXECUTOR_PATH}: ${(e as Error).message}`, {
    phase: "executor", hint: "run `npm install` to build it",
  });
  let proc!: { pid: number; exited: Promise<number | null>; kill(signal?: number | NodeJS.Signals): void };
  let ctlFd = -1;
  let ownCtl = false;
  let spawning: Promise<SpawnedWrapper> | undefined;
  if (opts.wrap && opts.spawnWrapper && preserve === 0) {
    // Asked for now, carried out by the spawner meanwhile (berthd asks even earlier: startWrapperEarly).
    spawning = opts.spawnWrapper(wrapArgv(3), sealed ? [opts.executorFd!] : []);
  } else {
    try {
      // The sealed copy goes right after the control socket, and the monitor runs it from there.
      const argv = opts.wrap ? wrapArgv(ctlIndex) : [EXECUTOR_PATH, String(ctlIndex)];
      const stdio = opts.wrap ? ["ignore", "ignore", "ignore"] : (opts.stdio ?? ["inherit", "inherit", "inherit"]);
      const p = Bun.spawn(argv, { stdio: [...stdio, ...extra, "pipe", ...(sealed ? [opts.executorFd] : [])] as never });
      proc = p;
      ctlFd = (p.stdio as unknown as number[])[ctlIndex];
    } catch (e) {
      throw cannotRun(e);
    }
    mark("executor spawned");
    opts.onSpawn?.(proc.pid);
  }
  // With an awaitGo step the plan goes first and beforePlan's work (the cgroups) overlaps with
  // the executor's first steps (a network namespace made ahead); the executor opens the cgroups
  // on our word. Without one, beforePlan runs while the executor starts, and the plan follows.
  const goFirst = plan.steps.some((st) => st.op === "awaitGo");
  let planError: unknown;
  const before = () => {
    try {
      opts.beforePlan?.();
    } catch (e) {
      planError = e;
    }
  };
  if (!goFirst) before();
  if (spawning) {
    try {
      const w = await spawning;
      proc = w;
      ctlFd = w.ctl;
      ownCtl = true;
    } catch (e) {
      throw planError ?? cannotRun(e);
    }
    mark("executor spawned");
  }
  if (goFirst) {
    writeAll(ctlFd, planBytes(plan));
    mark("plan sent");
    before();
  }
  if (planError) {
    // The control socket closing tells the executor to exit: without a plan, or (goFirst)
    // before it has made anything but its own network namespace.
    if (opts.wrap) await abandonWrapper(ctlFd, proc);
    else fs.closeSync(ctlFd);
    throw planError;
  }
  if (goFirst) {
    try {
      writeAll(ctlFd, GO);
    } catch { /* the executor failed a step before and is gone: its report says which */ }
    mark("go sent");
  } else {
    writeAll(ctlFd, planBytes(plan));
    mark("plan sent");
  }
  // A wrapped executor is recorded once it has its plan, off the start's path: until the commit
  // it cannot outlive us (our end of its control socket closing ends it, and the init with it).
  if (spawning) opts.onSpawn?.(proc.pid);
  opts.afterPlan?.();
  let initPid = 0;
  let error: BerthError | undefined;
  let buf = new Uint8Array(0);
  let reports: Reports;
  try {
    reports = ownCtl ? await socketReports(ctlFd) : fileReports(ctlFd, false);
  } catch {
    reports = fileReports(ctlFd, true); // (Bun would not take the fd: read it as before)
  }
  // The answers go on the raw fd; one that Bun's socket owns is only written while it is open
  // (Bun closes the fd with the socket, and the number may be another file's after that).
  const answer = (bytes: Uint8Array) => {
    if (reports.open()) writeAll(ctlFd, bytes);
  };
  const answerHookPoint = async () => {
    const header = new Uint8Array(4);
    const dv = new DataView(header.buffer);
    try {
      if (!opts.onHookPoint) throw new BerthError("the plan paused for hooks but none can run", { phase: "hooks" });
      const state = await opts.onHookPoint(initPid);
      dv.setUint32(0, state.length, true);
      answer(concat(header, state));
    } catch (e) {
      error ??= e instanceof BerthError ? e : new BerthError(String(e), { phase: "hooks" });
      dv.setUint32(0, 0xffffffff, true); // tells the init to give up
      answer(header);
    }
  };
  const answerCommit = async () => {
    try {
      await opts.onCommit?.(initPid);
      answer(new Uint8Array([0x4d])); // 'M': recorded, go on
    } catch (e) {
      error ??= e instanceof BerthError ? e : new BerthError(String(e), { phase: "state" });
      answer(new Uint8Array([0x4e])); // anything else: the executor kills the init
    }
  };
  const settled = new Promise<void>((resolve) => {
    let hookPoint = false, commit = false;
    const handle = (chunk: Uint8Array): boolean => {
      buf = buf.length ? concat(buf, chunk) : chunk;
      let started = false;
      while (buf.length >= 16) {
        const dv = new DataView(buf.buffer, buf.byteOffset, 16);
        const kind = dv.getInt32(0, true), step = dv.getInt32(4, true), errno = dv.getInt32(8, true), value = dv.getInt32(12, true);
        buf = buf.subarray(16);
        if (kind === REPORT.pid) {
          initPid = value;
          opts.onPid?.(value);
        }
        else if (kind === REPORT.error) error ??= stepError(plan, step, errno, value);
        else if (kind === REPORT.died) error ??= diedError(plan, step, errno, value);
        else if (kind === REPORT.started || kind === REPORT.ready) started = true;
        else if (kind === REPORT.hooks) hookPoint = true;
        else if (kind === REPORT.commit) commit = true;
      }
      // After an error the init exits by itself and stage 0 follows: wait for that instead.
      return started && !error;
    };
    (async () => {
      try {
        for (;;) {
          const value = await reports.next();
          if (!value || handle(value)) break;
          if (hookPoint) {
            hookPoint = false;
            await answerHookPoint();
          }
          if (commit) {
            commit = false;
            await answerCommit();
          }
        }
      } catch {
        /* the socket closed under us: the executor is gone */
      }
      resolve();
    })();
  });
  await Promise.race([settled, proc.exited.then(() => Bun.sleep(20))]);
  const exited = proc.exited.then((code) => {
    reports.close();
    return code ?? 1;
  });
  // Nothing reads it any more once settled (or the executor is gone); a spawner-made socket is
  // ours, and closing the reader closes it.
  if (ownCtl) void Promise.race([settled, exited]).then(() => reports.close());
  if (error) await exited;
  else if (!initPid) {
    const code = await exited;
    error = new BerthError(`the executor exited (status ${code}) before starting the container`, { phase: "executor" });
  }
  return {
    initPid,
    error,
    exited,
    kill: (sig) => {
      try {
        proc.kill(sig as number);
      } catch {
        /* already gone */
      }
    },
  };
}

// berthd's side of native/spawner: starts the monitors without berthd's event loop waiting in
// vfork for each one to exec (see spawner.c for the protocol and why). One spawner per berthd,
// started with it; if it cannot start or dies, berthd falls back to Bun's spawn.
import fs from "node:fs";
import os from "node:os";
import { SOCK_SEQPACKET, SOCK_STREAM, errnoName, sendWithFds, socketpair } from "../sys/libc.ts";
import { nativeProgram, type SpawnedWrapper } from "../../runtime/executor/launch.ts";

const STARTED = 1, EXEC_FAILED = 2, EXITED = 3;
const enc = new TextEncoder();

/** A request that never reached the spawner: safe to make again with another one. */
export class NotSent extends Error {}

interface Waiting { resolve(pid: number): void; reject(e: Error): void }

export class Spawner {
  private sock: number;
  private proc: ReturnType<typeof Bun.spawn>;
  private nextId = 1;
  private waiting = new Map<number, Waiting>();
  /** exit reports by pid (the spawner sends a child's "started" before its "exited") */
  private exits = new Map<number, (status: number) => void>();
  private dead = false;
  private markGone: () => void = () => {};
  /** resolves when this spawner is gone (its children's exits are then never reported) */
  private gone = new Promise<void>((resolve) => (this.markGone = resolve));
  private reader?: ReadableStreamDefaultReader<Uint8Array>;
  /** requests not sent yet (the socket was full), in order */
  private queue: { id: number; msg: Uint8Array; fds: number[]; owned: number[] }[] = [];
  private retry?: ReturnType<typeof setTimeout>;

  private constructor(readonly path: string) {
    const [ours, theirs] = socketpair(SOCK_SEQPACKET, true);
    try {
      this.proc = Bun.spawn([path], { stdio: ["ignore", "ignore", "inherit", theirs] as never });
    } catch (e) {
      fs.closeSync(ours);
      throw e;
    } finally {
      fs.closeSync(theirs);
    }
    this.sock = ours;
    // berthd must not wait for the spawner to exit: it ends by itself when our end closes.
    this.proc.unref();
    void this.proc.exited.then(() => this.fail(new Error("berth-spawner exited")));
    void this.read();
  }

  /** The spawner, or undefined (with the reason) when this host cannot run it. */
  static start(): { spawner?: Spawner; error?: string } {
    const path = nativeProgram("spawner/berth-spawner", "BERTH_SPAWNER");
    try {
      return { spawner: new Spawner(path) };
    } catch (e) {
      return { error: `cannot start ${path}: ${(e as Error).message}` };
    }
  }

  get alive(): boolean {
    return !this.dead;
  }

  /**
   * Runs argv with /dev/null as stdio and `fds` as its fds 3, 4, ...; `pid` resolves once it has
   * exec'd. `owned` (some of `fds`) are closed here once sent; the caller keeps the others open
   * until then, which is at once unless the socket is full (a burst of starts).
   */
  spawn(argv: string[], fds: number[], owned: number[] = [], execFd?: number): { pid: Promise<number>; exited: Promise<number> } {
    if (this.dead) throw new NotSent("berth-spawner is not running");
    const id = this.nextId++;
    // `execFd`: the program is run from it (a sealed copy), sent after the others; argv[0] names it.
    const sent = execFd === undefined ? fds : [...fds, execFd];
    const head = new Uint8Array(12);
    new DataView(head.buffer).setUint32(0, id, true);
    new DataView(head.buffer).setUint32(4, sent.length, true);
    new DataView(head.buffer).setInt32(8, execFd === undefined ? -1 : fds.length, true);
    const args = argv.map((a) => enc.encode(`${a}\0`));
    const msg = new Uint8Array(12 + args.reduce((n, a) => n + a.length, 0));
    msg.set(head);
    let off = 12;
    for (const a of args) {
      msg.set(a, off);
      off += a.length;
    }
    let exitResolve!: (s: number) => void;
    const exited = new Promise<number>((r) => (exitResolve = r));
    const pid = new Promise<number>((resolve, reject) => {
      this.waiting.set(id, {
        resolve: (p) => {
          this.exits.set(p, exitResolve);
          resolve(p);
        },
        reject,
      });
    });
    this.queue.push({ id, msg, fds: sent, owned });
    this.flush();
    return { pid, exited };
  }

  /** Sends what is queued, in order; a full socket is tried again a millisecond later. */
  private flush(): void {
    while (this.queue.length && !this.dead) {
      const m = this.queue[0];
      try {
        sendWithFds(this.sock, m.msg, m.fds);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === "EAGAIN" || code === "EWOULDBLOCK") {
          this.retry ??= setTimeout(() => {
            this.retry = undefined;
            this.flush();
          }, 1);
          return;
        }
        this.fail(e as Error); // the spawner is gone: nothing more goes
        return;
      }
      this.queue.shift();
      for (const fd of m.owned) fs.closeSync(fd);
    }
  }

  /** A helper program with no fds (berthd's `umount`): its exit code, or 128 + the signal. */
  async run(argv: string[]): Promise<number> {
    const r = this.spawn(argv, []);
    const pid = await r.pid;
    // A spawner that dies first never reports the exit: then wait for the pid to go (the
    // child is re-parented and reaped), its status unknown (1).
    const s = await Promise.race([r.exited, this.gone.then(() => untilGone(pid)).then(() => 1 << 8)]);
    return (s & 0x7f) === 0 ? (s >> 8) & 0xff : 128 + (s & 0x7f);
  }

  /** A SpawnedWrapper for launch(): the control socket is made here, its other end sent along. */
  async spawnWrapper(argv: string[], fds: number[], execFd?: number): Promise<SpawnedWrapper> {
    const [ctl, childCtl] = socketpair(SOCK_STREAM, true);
    let r: { pid: Promise<number>; exited: Promise<number> };
    try {
      r = this.spawn(argv, [childCtl, ...fds], [childCtl], execFd);
    } catch (e) {
      fs.closeSync(ctl);
      fs.closeSync(childCtl);
      throw e;
    }
    let pid: number;
    try {
      pid = await r.pid;
    } catch (e) {
      fs.closeSync(ctl);
      throw e;
    }
    let gone = false;
    const exited = r.exited.then((s) => {
      gone = true;
      // waitpid's status: a normal exit's code, else 128 + the signal, as a shell reports it
      return (s & 0x7f) === 0 ? (s >> 8) & 0xff : 128 + (s & 0x7f);
    });
    return {
      pid, ctl, exited,
      kill(sig) {
        if (gone) return;
        try {
          process.kill(pid, sig);
        } catch { /* already gone */ }
      },
    };
  }

  private async read(): Promise<void> {
    const reader = (this.reader = Bun.file(this.sock).stream().getReader());
    let buf = new Uint8Array(0);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (!value) continue;
        const all = buf.length ? Buffer.concat([buf, value]) : value;
        let off = 0;
        for (; off + 16 <= all.length; off += 16) {
          const dv = new DataView(all.buffer, all.byteOffset + off, 16);
          this.report(dv.getUint32(0, true), dv.getUint32(4, true), dv.getInt32(8, true), dv.getInt32(12, true));
        }
        buf = all.subarray(off);
      }
    } catch { /* cancelled */ }
    this.fail(new Error("berth-spawner closed its socket"));
    // Bun's stream does not close an fd it was given; only now is nothing polling it.
    fs.closeSync(this.sock);
  }

  private report(kind: number, id: number, pid: number, value: number): void {
    if (kind === STARTED || kind === EXEC_FAILED) {
      const w = this.waiting.get(id);
      if (!w) return;
      this.waiting.delete(id);
      if (kind === STARTED) w.resolve(pid);
      else {
        const code = errnoName(value);
        w.reject(Object.assign(new Error(code), { code }));
      }
    } else if (kind === EXITED) {
      const done = this.exits.get(pid);
      if (done) {
        this.exits.delete(pid);
        done(value);
      }
    }
  }

  private fail(e: Error): void {
    if (this.dead) return;
    this.dead = true;
    this.markGone();
    // What never left the queue can be asked of another spawner; what was sent cannot (the
    // child may exist).
    const unsent = new Set(this.queue.map((m) => m.id));
    for (const m of this.queue) for (const fd of m.owned) fs.closeSync(fd);
    this.queue = [];
    for (const [id, w] of this.waiting) w.reject(unsent.has(id) ? new NotSent(e.message) : e);
    this.waiting.clear();
  }

  /** Ends the spawner (our end closing is its signal); children it started live on. */
  close(): void {
    this.fail(new Error("closed"));
    void this.reader?.cancel().catch(() => {});
  }
}

/** Resolves once `pid` is gone or a zombie (polling /proc; at most 30 s). */
async function untilGone(pid: number): Promise<void> {
  for (let i = 0; i < 1500; i++) {
    try {
      const st = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      if (/\) [ZX] /.test(st)) return;
    } catch {
      return;
    }
    await Bun.sleep(20);
  }
}

/**
 * spawnWrapper through Bun's spawn, for when there is no spawner: the control socket is still
 * ours, made here and closed by launch() once the start is settled (Bun's own "pipe" end would
 * stay open in berthd for good). The event loop waits in vfork meanwhile.
 */
export async function bunSpawnWrapper(argv: string[], fds: number[], execFd?: number): Promise<SpawnedWrapper> {
  const [ctl, childCtl] = socketpair(SOCK_STREAM, true);
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    // `execFd`: run from it, as the child's fd after the others (the monitor closes what it does not keep).
    const run = execFd === undefined ? argv : [`/proc/self/fd/${4 + fds.length}`, ...argv.slice(1)];
    proc = Bun.spawn(run, { argv0: argv[0], stdio: ["ignore", "ignore", "ignore", childCtl, ...fds, ...(execFd === undefined ? [] : [execFd])] as never });
  } catch (e) {
    fs.closeSync(ctl);
    throw e;
  } finally {
    fs.closeSync(childCtl); // the child has its copy once spawn returns (vfork: it has exec'd)
  }
  const p = proc;
  return {
    pid: p.pid, ctl,
    exited: p.exited.then((code) => code ?? 128 + (os.constants.signals[p.signalCode as keyof typeof os.constants.signals] ?? 0)),
    kill(sig) {
      try {
        p.kill(sig as number);
      } catch { /* gone */ }
    },
  };
}

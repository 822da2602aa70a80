// Builds OCI bundles with a busybox rootfs for integration tests, and runs bin/berth on them.
import { scratchDir } from "./scratch.ts";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { defaultSpec } from "../../src/runtime/spec/defaults.ts";
import type { Spec } from "../../src/runtime/spec/types.ts";

import { BERTH, BUSYBOX, IS_ROOT, makeRootfs, REPO } from "./rootfs.ts";

export { BERTH, BUSYBOX, IS_ROOT, makeRootfs, REPO };
/** Integration tests need root and a static busybox (Debian's busybox-static). */
export const CAN_RUN = IS_ROOT && !!BUSYBOX;

export interface Bundle {
  dir: string;
  spec: Spec;
  write(): void;
  cleanup(): void;
}

const tmpRoot = scratchDir(path.join(os.tmpdir(), "berth-test-"));
// Containers in a user namespace run as an unprivileged host uid: it must reach the rootfs.
fs.chmodSync(tmpRoot, 0o755);
const removeTmp = () => fs.rmSync(tmpRoot, { recursive: true, force: true });
process.on("exit", removeTmp);
// Under `bun test` the exit handler does not run: remove it after the importing file's tests.
if (process.env.NODE_ENV === "test") (await import("bun:test")).afterAll(removeTmp);

let counter = 0;
/** A bundle whose config is runc's default spec, not on a terminal, running `args`. */
export function makeBundle(args: string[], edit?: (s: Spec) => void): Bundle {
  const dir = `${tmpRoot}/b${++counter}`;
  makeRootfs(`${dir}/rootfs`);
  const spec = defaultSpec();
  spec.process!.terminal = false;
  spec.process!.args = args;
  edit?.(spec);
  const b: Bundle = {
    dir,
    spec,
    write: () => fs.writeFileSync(`${dir}/config.json`, JSON.stringify(b.spec, null, 2)),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
  b.write();
  return b;
}

/** A private state root per test file, so tests never see each other's containers. */
export const STATE_ROOT = `${tmpRoot}/state`;

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let outn = 0;
/**
 * Runs bin/berth. With `detached`, output goes through files, not pipes: a detached container
 * inherits berth's stdout, and a pipe would stay open (and block us) until the container exits.
 */
export function berth(args: string[], opts: { cwd?: string; stdin?: string; root?: string; detached?: boolean } = {}): Result {
  const argv = [BERTH, "--root", opts.root ?? STATE_ROOT, ...args];
  const stdin = opts.stdin !== undefined ? Buffer.from(opts.stdin) : "ignore";
  if (opts.detached) {
    const out = `${tmpRoot}/out${++outn}`, err = `${tmpRoot}/err${outn}`;
    const r = Bun.spawnSync(argv, { cwd: opts.cwd, stdin, stdout: Bun.file(out), stderr: Bun.file(err) });
    return { code: r.exitCode ?? 128 + 9, stdout: fs.readFileSync(out, "utf8"), stderr: fs.readFileSync(err, "utf8") };
  }
  const r = Bun.spawnSync(argv, { cwd: opts.cwd, stdin, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? 128 + 9, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

let idn = 0;
export function uniqueId(prefix = "t"): string {
  return `${prefix}-${process.pid}-${++idn}`;
}

/** Runs `args` in a fresh container and returns its output. */
export function runIn(args: string[], edit?: (s: Spec) => void, extra: string[] = []): Result {
  const b = makeBundle(args, edit);
  try {
    return berth(["run", "--bundle", b.dir, ...extra, uniqueId()]);
  } finally {
    b.cleanup();
  }
}

/** Nothing left behind: no state dirs under the test root (berth's own .cache aside). */
export function leftoverState(): string[] {
  try {
    return fs.readdirSync(STATE_ROOT).filter((n) => !n.startsWith("."));
  } catch {
    return [];
  }
}

/**
 * test/helpers/NAME.c built into the shared temp dir, once; again when another test file's
 * afterAll has removed that dir since.
 */
function helperBinary(name: string, flags: string[]): string {
  const out = `${tmpRoot}/${name}`;
  if (fs.existsSync(out)) return out;
  fs.mkdirSync(tmpRoot, { recursive: true });
  const r = Bun.spawnSync(["cc", ...flags, "-O1", "-o", out, `${REPO}/test/helpers/${name}.c`], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`cannot build ${name}: ${r.stderr.toString()}`);
  return out;
}

/** The probe (test/helpers/probe.c), static: it runs inside containers. */
export function probeBinary(): string {
  return helperBinary("probe", ["-static"]);
}

/** Copies the probe into a bundle's rootfs as /bin/probe. */
export function addProbe(b: Bundle): void {
  fs.copyFileSync(probeBinary(), `${b.dir}/rootfs/bin/probe`);
  fs.chmodSync(`${b.dir}/rootfs/bin/probe`, 0o755);
}

/**
 * Removes a detached container the test started: kills its init, waits for it to be gone, then
 * removes its cgroup directories and state. (`berth delete` does this once it exists.)
 */
export function killDetached(id: string, pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch { /* already gone */ }
  for (let i = 0; i < 200 && fs.existsSync(`/proc/${pid}/stat`) && !fs.readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z"); i++) Bun.sleepSync(5);
  for (const h of fs.readdirSync("/sys/fs/cgroup")) {
    for (let i = 0; i < 100; i++) {
      try {
        fs.rmdirSync(`/sys/fs/cgroup/${h}/berth/${id}`);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EBUSY") break;
        Bun.sleepSync(10);
      }
    }
  }
  fs.rmSync(`${STATE_ROOT}/${id}`, { recursive: true, force: true });
}

/** test/helpers/recvtty.c: the receiving end of --console-socket. */
export function recvttyBinary(): string {
  return helperBinary("recvtty", []);
}

export { tmpRoot as TEST_TMP };

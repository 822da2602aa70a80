// Run as the init of a private pid namespace (unshare --pid --fork --mount --mount-proc) by
// test/integration/crash.test.ts: SIGKILLs `berth run -d` / `berth create` after each delay and
// reports, as JSON on stdout, what each kill left: nothing at all, or a container that `list`
// and `state` show and `delete --force` removes with its processes and cgroups. Every process
// here is ours (we are pid 1), so nothing can leak to the host.
import fs from "node:fs";
import { BERTH, makeBundle } from "./bundle.ts";

const [root, prefix, modes, delays] = [process.argv[2]!, process.argv[3]!, process.argv[4]!.split(","), process.argv[5]!.split(",").map(Number)];

/** Live processes of this namespace other than us (zombies are dead: their parent is us). */
function liveProcesses(): string[] {
  const out: string[] = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || name === "1") continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      const state = stat.slice(stat.lastIndexOf(")") + 2)[0];
      if (state !== "Z" && state !== "X") out.push(`${name}:${stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"))}`);
    } catch { /* exited meanwhile */ }
  }
  return out;
}

function cgroupsOf(id: string): string[] {
  const out: string[] = [];
  for (const h of fs.readdirSync("/sys/fs/cgroup")) {
    const d = h === "cgroup.procs" ? "" : `/sys/fs/cgroup/${h}/berth/${id}`;
    if (d && fs.existsSync(d)) out.push(d);
  }
  if (fs.existsSync(`/sys/fs/cgroup/berth/${id}`)) out.push(`/sys/fs/cgroup/berth/${id}`);
  return out;
}

function berth(args: string[]): { code: number; out: string; err: string } {
  const r = Bun.spawnSync([BERTH, "--root", root, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? 137, out: r.stdout.toString(), err: r.stderr.toString() };
}

/** Processes of an unfinished create die by themselves within a moment: let them. */
function settle(): void {
  for (let i = 0; i < 50 && liveProcesses().length; i++) Bun.sleepSync(10);
}

const b = makeBundle(["sleep", "300"]);
// berth killed at a known moment of setup: by its own prestart hook (run by berth, $PPID is
// berth), while the init waits with its namespaces made.
const hooked = makeBundle(["sleep", "300"], (s) => {
  s.hooks = { prestart: [{ path: "/bin/sh", args: ["sh", "-c", "kill -9 $PPID"] }] };
});
const results: unknown[] = [];
let n = 0;
for (const mode of modes) {
  for (const delay of delays) {
    const id = `${prefix}-${mode}-${++n}`;
    const bundle = mode.startsWith("hook-") ? hooked.dir : b.dir;
    const args = mode.endsWith("run") ? ["run", "-d", "--bundle", bundle, id] : ["create", "--bundle", bundle, id];
    const child = Bun.spawn([BERTH, "--root", root, ...args], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    if (!mode.startsWith("hook-")) {
      Bun.sleepSync(delay);
      child.kill("SIGKILL");
    }
    await child.exited;
    const finished = child.signalCode !== "SIGKILL";
    if (!finished) settle(); // an unrecorded init must be going away: give it the time to
    const r: Record<string, unknown> = { mode, delay, finished };
    if (!fs.existsSync(`${root}/${id}`)) {
      r.outcome = "nothing";
      r.processes = liveProcesses();
      r.cgroups = cgroupsOf(id);
    } else {
      r.outcome = "visible";
      const list = berth(["list", "-q"]);
      r.listed = list.out.split("\n").includes(id);
      const st = berth(["state", id]);
      r.status = st.code === 0 ? JSON.parse(st.out).status : `error: ${st.err.trim()}`;
      const del = berth(["delete", "--force", id]);
      r.deleteCode = del.code;
      r.deleteErr = del.err.trim();
      settle();
      r.processes = liveProcesses();
      r.cgroups = cgroupsOf(id);
      r.dirLeft = fs.existsSync(`${root}/${id}`);
    }
    results.push(r);
    // Leave the next trial a clean slate even when this one failed.
    for (const p of liveProcesses()) {
      try {
        process.kill(Number(p.split(":")[0]), "SIGKILL");
      } catch { /* gone */ }
    }
  }
}
b.cleanup();
hooked.cleanup();
process.stdout.write(JSON.stringify(results) + "\n");
process.exit(0);

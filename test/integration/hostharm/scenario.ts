// One host-harm scenario, run by hostharm.test.ts as pid 1 of a private pid namespace
// (`unshare --pid --fork --mount --mount-proc`), so a regression cannot signal the machine.
//
// The outer test has made the host's cgroups: in every hierarchy <parent>/svc (holding a sleep
// from outside this namespace, which cgroup.procs shows here as pid 0), <parent>/empty, and a
// second outside sleep directly in <parent>. This script adds a "service" sleep of its own to
// <parent>/svc, runs the case's berth commands on a container whose cgroupsPath is <parent>,
// and prints one JSON line: the commands' results and whether its service survived.
import fs from "node:fs";
import { berth, makeBundle, uniqueId } from "../../helpers/bundle.ts";

const parent = process.env.HOSTHARM_PARENT!;
const dirs: string[] = JSON.parse(process.env.HOSTHARM_DIRS!);
const kase = process.env.HOSTHARM_CASE!;

const alive = (pid: number) => {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]/.test(st.slice(st.lastIndexOf(")") + 2));
  } catch {
    return false;
  }
};
/** pids in this namespace whose command line is exactly `args` */
const running = (args: string[]) =>
  fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number).filter((p) => {
    try {
      return fs.readFileSync(`/proc/${p}/cmdline`, "utf8") === args.join("\0") + "\0" && alive(p);
    } catch {
      return false;
    }
  });

const svc = Bun.spawn(["sleep", "600"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
for (const d of dirs) fs.writeFileSync(`${d}/svc/cgroup.procs`, String(svc.pid));

const steps: { cmd: string; code: number; stderr: string }[] = [];
const id = uniqueId("hostharm");
const systemd = kase.startsWith("systemd");
const frozenCase = kase === "frozen";
const cgroupsPath = systemd ? `-.slice:x:${parent}` : frozenCase ? `/${parent}/empty` : `/${parent}`;
// A pre-existing frozen cgroup: the host's <parent>/empty, frozen here and thawed after.
const freezer = dirs.find((d) => d.includes("/freezer/"));
const freezeFile = freezer ? `${freezer}/empty/freezer.state` : `${dirs[dirs.length - 1]}/empty/cgroup.freeze`;
const setFrozen = (on: boolean) => fs.writeFileSync(freezeFile, freezer ? (on ? "FROZEN" : "THAWED") : on ? "1" : "0");
const run = (args: string[], detached = false) => {
  const r = berth(systemd ? ["--systemd-cgroup", ...args] : args, { detached });
  steps.push({ cmd: args[0]!, code: r.code, stderr: r.stderr.trim() });
  return r;
};
const status = () => {
  const r = berth(["state", id]);
  return r.code === 0 ? (JSON.parse(r.stdout) as { status: string }).status : "gone";
};
const waitStopped = () => {
  for (let i = 0; i < 500 && status() !== "stopped"; i++) Bun.sleepSync(10);
};

const noPidNs = kase.includes("no-pidns");
const b = makeBundle(kase.includes("fork") ? ["sh", "-c", "sleep 301 & exec sleep 302"] : kase.includes("exits") || kase.endsWith("run") ? ["true"] : ["sleep", "300"], (s) => {
  s.linux!.cgroupsPath = cgroupsPath;
  if (noPidNs) s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== "pid");
  if (kase.startsWith("create-fail")) s.hooks = { createRuntime: [{ path: "/bin/false" }] };
});
const bundle = ["--bundle", b.dir];

switch (kase.replace(/^systemd-/, "")) {
  case "run":
    run(["run", ...bundle, id]);
    break;
  case "run-exits":
  case "delete-stopped-exits":
    run(["run", "-d", ...bundle, id], true);
    waitStopped();
    run(["delete", id]);
    break;
  case "kill-all":
  case "kill-all-no-pidns-fork":
    run(["run", "-d", ...bundle, id], true);
    run(["kill", "--all", id, "KILL"]);
    waitStopped();
    run(["delete", id]);
    break;
  case "delete-force-running":
  case "delete-force-no-pidns-fork":
    run(["run", "-d", ...bundle, id], true);
    run(["delete", "--force", id]);
    break;
  case "delete-force-created":
    run(["create", ...bundle, id], true);
    run(["delete", "--force", id]);
    break;
  case "pause-update":
    run(["run", "-d", ...bundle, id], true);
    run(["pause", id]);
    run(["resume", id]);
    run(["update", "--pids-limit", "7", id]);
    run(["delete", "--force", id]);
    break;
  case "frozen":
    setFrozen(true);
    try {
      run(["create", ...bundle, id], true);
    } finally {
      setFrozen(false);
    }
    break;
  case "create-fail":
    run(["create", ...bundle, id], true);
    break;
  default:
    throw new Error(`unknown case ${kase}`);
}

// The container's own processes must be gone too (berth still cleans up its container).
const leaked = [...running(["sleep", "300"]), ...running(["sleep", "301"]), ...running(["sleep", "302"])];
const out = { steps, serviceAlive: alive(svc.pid), leaked, stateLeft: berth(["state", id]).code === 0 };
berth(["delete", "--force", id]); // in case a step failed half-way
svc.kill("SIGKILL"); // our own sleep
await svc.exited;
b.cleanup();
process.stdout.write(JSON.stringify(out) + "\n");
process.exit(0);

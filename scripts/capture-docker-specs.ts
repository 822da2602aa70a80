// Dev tool: runs Debian's dockerd privately (test/helpers/dockerd.ts) with a logging runc and
// writes the config.json it generated for each command line below to OUT/<name>.json, so the
// spec builder's expectations (test/unit/engine-spec-docker.test.ts) can be checked by hand.
// Usage: bun scripts/capture-docker-specs.ts /tmp/out
import fs from "node:fs";
import { Dockerd, RUNC, readRuntimeCalls } from "../test/helpers/dockerd.ts";

const out = process.argv[2] ?? "/tmp/ctrspec-capture";
fs.mkdirSync(out, { recursive: true });
const d = await Dockerd.start({ loggingRuntimes: { logrunc: RUNC! } });
try {
  d.importBusybox();
  const bind = `${d.dir}/bindsrc`;
  fs.mkdirSync(bind);
  const only = process.argv[3]?.split(",");
  const all: Record<string, string[]> = {
    default: ["--network", "none"],
    bridge: [],
    privileged: ["--network", "none", "--privileged"],
    caps: ["--network", "none", "--cap-add", "SYS_ADMIN", "--cap-add", "CAP_NET_ADMIN", "--cap-drop", "MKNOD", "--cap-drop", "chown"],
    capsall: ["--network", "none", "--cap-drop", "ALL", "--cap-add", "KILL"],
    capaddall: ["--network", "none", "--cap-add", "ALL", "--cap-drop", "SYS_ADMIN"],
    ptrace: ["--network", "none", "--cap-add", "SYS_PTRACE", "--cap-add", "SYS_TIME", "--cap-add", "SYS_NICE", "--cap-add", "SYS_MODULE", "--cap-add", "SYS_RAWIO", "--cap-add", "SYS_BOOT", "--cap-add", "SYS_PACCT", "--cap-add", "SYS_TTY_CONFIG", "--cap-add", "SYSLOG", "--cap-add", "DAC_READ_SEARCH"],
    volumes: ["--network", "none", "-v", `${bind}:/data`, "-v", `${bind}:/ro:ro`, "-v", `${bind}:/zz:rw,z`, "--mount", `type=bind,src=${bind},dst=/m,readonly`, "--mount", "type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1700", "--mount", "type=tmpfs,dst=/t2"],
    tmpfs: ["--network", "none", "--tmpfs", "/run", "--tmpfs", "/x:rw,size=10m,noexec", "--tmpfs", "/y:exec,mode=700"],
    readonly: ["--network", "none", "--read-only"],
    resources: ["--network", "none", "--memory", "64m", "--memory-swap", "128m", "--memory-reservation", "32m", "--cpus", "1.5", "--cpu-shares", "512", "--cpuset-cpus", "0", "--cpuset-mems", "0", "--pids-limit", "50"],
    resources2: ["--network", "none", "--memory", "64m", "--cpu-quota", "50000", "--cpu-period", "200000", "--pids-limit", "-1", "--oom-kill-disable", "--memory-swappiness", "10"],
    user: ["--network", "none", "--user", "1000:1000", "--group-add", "10", "-w", "/tmp", "-e", "FOO=bar", "-h", "myhost", "--domainname", "example.org"],
    username: ["--network", "none", "--user", "nobody", "--group-add", "nogroup", "--cap-add", "NET_ADMIN"],
    cgroupns: ["--network", "none", "--cgroupns", "private", "--ipc", "none"],
    rotmpfs: ["--network", "none", "--read-only", "--tmpfs", "/run", "--mount", "type=tmpfs,dst=/ro,readonly", "--dns", "1.1.1.1", "--dns-search", "example.org"],
    blkio: ["--network", "none", "--blkio-weight", "300", "--memory", "32m", "--memory-swap", "-1", "--kernel-memory", "0"],
    hostmask: ["--network", "none", "--security-opt", "systempaths=unconfined", "--security-opt", "no-new-privileges:false"],
    ulimit: ["--network", "none", "--ulimit", "nofile=1000:2000", "--ulimit", "nproc=50"],
    device: ["--network", "none", "--device", "/dev/zero:/dev/myzero:rw", "--device", "/dev/null", "--device", "/dev/full:/dev/f:r", "--device-cgroup-rule", "c 1:3 mr", "--device-cgroup-rule", "b *:* m"],
    sysctl: ["--network", "none", "--sysctl", "net.ipv4.ip_forward=1", "--sysctl", "kernel.msgmax=65536"],
    host: ["--network", "host"],
    shm: ["--network", "none", "--shm-size", "128m", "--ipc", "shareable"],
    shmprivate: ["--network", "none", "--shm-size", "1g", "--ipc", "private"],
    hostns: ["--network", "none", "--pid", "host", "--ipc", "host", "--uts", "host"],
    tty: ["--network", "none", "-t", "--oom-score-adj", "100", "--security-opt", "no-new-privileges", "--add-host", "foo:1.2.3.4", "--init", "--stop-signal", "SIGUSR1"],
    seccompoff: ["--network", "none", "--security-opt", "seccomp=unconfined", "--entrypoint", "/bin/echo"],
    seccompfile: ["--network", "none", "--security-opt", `seccomp=${d.dir}/prof.json`],
    env: ["--network", "none", "-e", "PATH=/bin", "-e", "A=1", "-e", "A=2", "-e", "TERM=dumb", "-t"],
  };
  fs.writeFileSync(`${d.dir}/prof.json`, JSON.stringify({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO" }] }));
  const cases = Object.fromEntries(Object.entries(all).filter(([n]) => !only || only.includes(n)));
  const errors: Record<string, string[]> = {
    mem1k: ["--memory", "1k"],
    swapsmall: ["--memory", "64m", "--memory-swap", "32m"],
    swaponly: ["--memory-swap", "64m"],
    nosrc: ["-v", "/nonexistent-ctrspec:/x"],
    nosrcmount: ["--mount", "type=bind,src=/nonexistent-ctrspec,dst=/x"],
    relsrc: ["-v", "rel/dir:/x"],
    reldst: ["-v", "/tmp:rel"],
    badmode: ["-v", "/tmp:/x:bogus"],
    badcap: ["--cap-add", "BOGUS"],
    badulimit: ["--ulimit", "nofile=2000:1000"],
    badsysctl: ["--sysctl", "vm.swappiness=1"],
    netsysctlhost: ["--network", "host", "--sysctl", "net.ipv4.ip_forward=1"],
    baddevice: ["--device", "/dev/nonexistent-ctrspec"],
    cpus: ["--cpus", "1", "--cpu-quota", "1000"],
    cpuset: ["--cpuset-cpus", "99"],
    baduser: ["--user", "nosuchuser"],
    badgroup: ["--user", "0:nosuchgroup"],
    seccompbad: ["--security-opt", "seccomp=/nonexistent.json"],
    badsecopt: ["--security-opt", "foo=bar"],
    apparmor: ["--security-opt", "apparmor=unconfined"],
    label: ["--security-opt", "label=disable"],
    nnpbad: ["--security-opt", "no-new-privileges=maybe"],
    shmneg: ["--shm-size", "1"],
    oom: ["--oom-score-adj", "5000"],
    pidsneg: ["--pids-limit", "-5"],
    volnamed: ["-v", "myvol:/x"],
    tmpfsrel: ["--tmpfs", "rel"],
    dupmount: ["-v", "/tmp:/x", "-v", "/var:/x"],
    ipcbad: ["--ipc", "bogus"],
    pidbad: ["--pid", "bogus"],
    memres: ["--memory", "64m", "--memory-reservation", "128m"],
    cpushares: ["--cpu-shares", "1"],
    sharesbig: ["--cpu-shares", "300000"],
    period: ["--cpu-period", "100"],
    cgrule: ["--device-cgroup-rule", "x 1:2 r"],
    stopsig: ["--stop-signal", "SIGBOGUS"],
    cpusbig: ["--cpus", "5"],
    swappiness: ["--memory-swappiness", "200"],
    blkiolow: ["--blkio-weight", "5"],
    workdir: ["-w", "rel"],
    tmpfsmount: ["--mount", "type=tmpfs,src=/tmp,dst=/x"],
    bindnotarget: ["--mount", "type=bind,src=/tmp"],
    mountnpipe: ["--mount", "type=npipe,src=/tmp,dst=/x"],
    capdropbad: ["--cap-drop", "NOPE"],
    resbig: ["--memory-reservation", "1k"],
    addhost: ["--add-host", "foo:notanip"],
    bindroot: ["-v", "/tmp:/"],
    sysctlipc: ["--ipc", "host", "--sysctl", "kernel.msgmax=1"],
    badhostname: ["-h", "bad host"],
    tmpfssize: ["--tmpfs", "/x:size=abc"],
    devrel: ["--device", "/dev/null:rel"],
    ulimitbogus: ["--ulimit", "bogus=1"],
    cgparent: ["--cgroup-parent", "../x"],
    netcontainer: ["--network", "container:nosuch"],
    netnamed: ["--network", "nosuchnet"],
    ipccontainer: ["--ipc", "container:nosuch"],
    utsbogus: ["--uts", "bogus"],
    anonmount: ["--mount", "type=volume,dst=/v"],
    badprop: ["--mount", "type=bind,src=/tmp,dst=/x,bind-propagation=bogus"],
    envbad: ["-e", "=x"],
    stopsig99: ["--stop-signal", "99"],
    workdirdots: ["-w", "/a/../.."],
    capboth: ["--cap-add", "NET_ADMIN", "--cap-drop", "NET_ADMIN"],
  };
  if (!only || only.includes("errors")) {
    for (const [name, args] of Object.entries(errors)) {
      const r = d.docker(["run", "--runtime", "logrunc", "--network", "none", ...args, "busybox", "true"]);
      fs.appendFileSync(`${out}/errors.txt`, `${name}\t${args.join(" ")}\t${r.code}\t${r.stderr.split("\n").filter((l) => !/level=error/.test(l)).join(" | ")}\n`);
    }
  }

  for (const [name, args] of Object.entries(cases)) {
    const r = d.docker(["run", "--runtime", "logrunc", "--name", `cap-${name}`, ...args, "busybox", "sh", "-c", "cat /etc/hosts /etc/resolv.conf /etc/hostname; true"]);
    fs.writeFileSync(`${out}/${name}.out`, `${r.code}\n${r.stdout}\n${r.stderr}`);
  }
  const calls = readRuntimeCalls(d.callsDir("logrunc")).filter((c) => c.command === "create");
  const dir = d.callsDir("logrunc");
  const byId = new Map<string, string>();
  for (const line of d.docker(["ps", "-a", "--no-trunc", "--format", "{{.Names}} {{.ID}}"]).stdout.split("\n").filter(Boolean)) {
    const [n, id] = line.split(" ");
    byId.set(id, n);
  }
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".config.json"))) {
    const argv = fs.readFileSync(`${dir}/${f.replace(".config.json", ".argv")}`, "utf8").split("\0");
    const id = argv.find((a) => byId.has(a));
    fs.copyFileSync(`${dir}/${f}`, `${out}/${id ? byId.get(id) : f}.json`);
  }
  const ids = d.docker(["ps", "-a", "--no-trunc", "--format", "{{.Names}} {{.ID}}"]).stdout;
  fs.writeFileSync(`${out}/ids.txt`, ids);
  // The per-container files dockerd wrote.
  for (const line of ids.split("\n").filter(Boolean)) {
    const [n, id] = line.split(" ");
    for (const f of ["hosts", "hostname", "resolv.conf"]) {
      try { fs.copyFileSync(`${d.dataRoot}/containers/${id}/${f}`, `${out}/${n}.${f}`); } catch { /* none */ }
    }
    fs.writeFileSync(`${out}/${n}.inspect.json`, d.docker(["inspect", id]).stdout);
  }
  console.log(`${calls.length} creates captured in ${out}`);
} finally {
  d.stop();
  // dockerd's -v makes a missing host directory: the error cases above make this one.
  try { fs.rmdirSync("/nonexistent-ctrspec"); } catch { /* not made */ }
}

// _ping, /version, /info: what `docker version` and `docker info` print, truthfully.
import fs from "node:fs";
import os from "node:os";
import type { Router } from "../router.ts";
import type { Engine } from "../../engine.ts";
import { API_VERSION, MIN_API_VERSION, commonHeaders } from "../server.ts";
import { ENGINE_VERSION, RUNTIME_NAME } from "../../version.ts";
import { detectLayout } from "../../../runtime/cgroups/index.ts";

const ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x" };

function osRelease(): { name: string; version: string } {
  try {
    const text = fs.readFileSync("/etc/os-release", "utf8");
    const get = (k: string) => (new RegExp(`^${k}="?([^"\\n]*)"?$`, "m").exec(text)?.[1] ?? "");
    return { name: get("PRETTY_NAME") || "Linux", version: get("VERSION_ID") };
  } catch {
    return { name: "Linux", version: "" };
  }
}

export function versionInfo() {
  const details = {
    ApiVersion: API_VERSION, Arch: ARCH[process.arch] ?? process.arch, BuildTime: "", Experimental: "false",
    GitCommit: "berth", GoVersion: RUNTIME_NAME, KernelVersion: os.release(), MinAPIVersion: MIN_API_VERSION, Os: "linux",
  };
  return {
    Platform: { Name: "Berth" },
    Components: [
      { Name: "Engine", Version: ENGINE_VERSION, Details: details },
      { Name: "berth", Version: ENGINE_VERSION, Details: { GitCommit: "", Runtime: "berth (in process)" } },
      { Name: "berth-monitor", Version: ENGINE_VERSION, Details: { GitCommit: "" } },
    ],
    Version: ENGINE_VERSION, ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, GitCommit: "berth",
    GoVersion: RUNTIME_NAME, Os: "linux", Arch: details.Arch, KernelVersion: os.release(), BuildTime: "",
  };
}

export function register(r: Router, engine: Engine): void {
  const ping = (ctx: import("../context.ts").Context) => {
    const res = ctx.res!;
    res.writeHead(200, {
      "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-cache, no-store, must-revalidate", Pragma: "no-cache",
      "Content-Length": ctx.req.method === "HEAD" ? 0 : 2, ...commonHeaders({ version: ENGINE_VERSION }),
    });
    res.end(ctx.req.method === "HEAD" ? undefined : "OK");
  };
  r.get("/_ping", ping);
  r.head("/_ping", ping);
  r.get("/version", () => versionInfo());
  r.get("/info", () => info(engine));
}

function info(engine: Engine) {
  const cs = engine.containers.list();
  const running = cs.filter((c) => c.state.Running && !c.state.Paused).length;
  const paused = cs.filter((c) => c.state.Paused).length;
  const layout = detectLayout();
  const rel = osRelease();
  return {
    ID: engine.id, Containers: cs.length, ContainersRunning: running, ContainersPaused: paused,
    ContainersStopped: cs.length - running - paused, Images: engine.images.count(),
    Driver: "overlayfs", DriverStatus: [["Backing Filesystem", "overlay on the data root"], ["Layers", "unpacked once, shared"]],
    Plugins: { Volume: [], Network: ["host", "null"], Authorization: null, Log: ["json-file"] },
    MemoryLimit: true, SwapLimit: true, KernelMemory: false, KernelMemoryTCP: false, CpuCfsPeriod: true, CpuCfsQuota: true,
    CPUShares: true, CPUSet: true, PidsLimit: true, IPv4Forwarding: readFlag("/proc/sys/net/ipv4/ip_forward"),
    BridgeNfIptables: false, BridgeNfIp6tables: false, Debug: engine.config.debug, NFd: countFds(),
    OomKillDisable: layout.mode !== "v2", NGoroutines: 1, SystemTime: new Date().toISOString(),
    LoggingDriver: "json-file", CgroupDriver: "cgroupfs", CgroupVersion: layout.mode === "v2" ? "2" : "1",
    NEventsListener: engine.events.listeners(), KernelVersion: os.release(), OperatingSystem: rel.name, OSVersion: rel.version,
    OSType: "linux", Architecture: os.machine(), IndexServerAddress: "https://index.docker.io/v1/",
    RegistryConfig: {
      AllowNondistributableArtifactsCIDRs: [], AllowNondistributableArtifactsHostnames: [], InsecureRegistryCIDRs: ["127.0.0.0/8"],
      IndexConfigs: { "docker.io": { Name: "docker.io", Mirrors: [], Secure: true, Official: true } }, Mirrors: [],
    },
    NCPU: os.cpus().length, MemTotal: os.totalmem(), GenericResources: null, DockerRootDir: engine.config.dataRoot,
    HttpProxy: process.env.HTTP_PROXY ?? "", HttpsProxy: process.env.HTTPS_PROXY ?? "", NoProxy: process.env.NO_PROXY ?? "",
    Name: os.hostname(), Labels: [], ExperimentalBuild: false, ServerVersion: ENGINE_VERSION,
    Runtimes: { berth: { path: "berth (in process)" } }, DefaultRuntime: "berth",
    Swarm: { NodeID: "", NodeAddr: "", LocalNodeState: "inactive", ControlAvailable: false, Error: "", RemoteManagers: null },
    LiveRestoreEnabled: true, Isolation: "", InitBinary: "berth-init", ContainerdCommit: { ID: "", Expected: "" },
    RuncCommit: { ID: "", Expected: "" }, InitCommit: { ID: "", Expected: "" },
    SecurityOptions: ["name=seccomp,profile=builtin", "name=no-new-privileges"],
    Warnings: [
      "WARNING: bridge networking is not available yet: containers on the default network get a network namespace with loopback only (as --network none); use --network host to share the host's",
    ],
  };
}

function readFlag(p: string): boolean {
  try {
    return fs.readFileSync(p, "utf8").trim() === "1";
  } catch {
    return false;
  }
}

function countFds(): number {
  try {
    return fs.readdirSync("/proc/self/fd").length;
  } catch {
    return 0;
  }
}

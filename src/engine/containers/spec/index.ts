// buildSpec: docker's Config + HostConfig (+ the image config) → an OCI runtime spec for Berth,
// with dockerd's defaults and checks. Pure: everything from the host comes through input.host.
// Deliberate differences from dockerd 20.10 are listed in README.md next to this file.
import { badRequest, notFound } from "../../errors.ts";
import { SIGNALS } from "../../../runtime/linux.ts";
import type { Namespace, Process, Spec } from "../../../runtime/spec/types.ts";
import { checkConfig, checkHostConfig } from "./fields.ts";
import { parseExtraHosts } from "./files.ts";
import { realHost } from "./host.ts";
import { buildMounts } from "./mounts.ts";
import { capabilities, processArgs, processCwd, processEnv, resolveUser, rlimits } from "./process.ts";
import { buildDevices, buildResources, buildSysctls } from "./resources.ts";
import { MASKED_PATHS, READONLY_PATHS, parseSecurityOpts, seccompFor } from "./security.ts";
import type { Json, SpecInput, SpecOutput } from "./types.ts";

export type { HostAccess, HostDevice, SpecInput, SpecOutput } from "./types.ts";
export { containerFiles, hostnameFile, hostsFile, parseExtraHosts, resolvConf, writeContainerFiles } from "./files.ts";
export { realHost } from "./host.ts";

export const OCI_VERSION = "1.0.2-dev";
const INIT_DEST = "/sbin/docker-init";

/** Network handling until bridge networks exist. */
function networkMode(hc: Json, bridgeAs: "none" | "none-quiet" | "refuse", warnings: string[], starting: boolean): "none" | "host" {
  const mode = (hc.NetworkMode as string | undefined) || "default";
  if (mode === "none" || mode === "host") return mode;
  if (mode === "default" || mode === "bridge") {
    if (bridgeAs === "refuse") throw badRequest(`network mode "${mode}" is not supported yet: use --network none or --network host`);
    if (bridgeAs === "none") warnings.push(`network "${mode}" is not supported yet: the container gets its own network namespace with only a loopback interface (as --network none)`);
    return "none";
  }
  if (mode.startsWith("container:")) throw badRequest(`network mode "${mode}" is not supported yet`);
  // A named network is looked up at start, as dockerd does: a 404 at create would have the CLI
  // try to pull the image instead.
  if (!starting) return "none";
  throw notFound(`network ${mode} not found`);
}

function namespaceMode(hc: Json, field: "IpcMode" | "PidMode" | "UTSMode", allowed: string[]): string {
  const v = (hc[field] as string | undefined) || "";
  if (v === "" || allowed.includes(v)) return v;
  if (v.startsWith("container:")) throw badRequest(`${field} "${v}" is not supported yet`);
  if (field === "IpcMode") throw badRequest(`Invalid IPC mode: ${v}`);
  if (field === "PidMode") throw badRequest(`Invalid PID mode: ${v}`);
  throw badRequest(`Invalid UTS mode: ${v}`);
}

export function checkStopSignal(sig: unknown): void {
  if (sig === undefined || sig === null || sig === "") return;
  const s = String(sig);
  const name = s.toUpperCase().startsWith("SIG") ? s.toUpperCase() : `SIG${s.toUpperCase()}`;
  if (/^\d+$/.test(s) ? Number(s) < 1 || Number(s) > 64 : !(name in SIGNALS) && !/^SIGRTM(IN|AX)([+-]\d+)?$/.test(name)) {
    throw badRequest(`Invalid signal: ${s}`);
  }
}

/** cgroupsPath for a container: "<parent>/<id>", the parent from --cgroup-parent or the daemon's default. */
export function cgroupsPathFor(id: string, hc: Json, defaultParent: string): string {
  const parent = (hc.CgroupParent as string | undefined) || defaultParent;
  if (parent.split("/").includes("..")) throw badRequest(`invalid cgroup parent "${parent}": must not contain ".."`);
  return `/${parent}/${id}`.replace(/\/+/g, "/");
}

export function buildSpec(input: SpecInput): SpecOutput {
  const host = input.host ?? realHost;
  const config = checkConfig(input.config);
  const hc = checkHostConfig(input.hostConfig);
  const image = input.image ?? {};
  const warnings: string[] = [];
  checkStopSignal(config.StopSignal);
  parseExtraHosts(hc.ExtraHosts);

  const starting = (input.phase ?? (host.exists(input.rootfs) ? "start" : "create")) === "start";
  const net = networkMode(hc, input.bridgeAs ?? "none", warnings, starting);
  const ipc = namespaceMode(hc, "IpcMode", ["private", "shareable", "host", "none"]) || "private";
  const pid = namespaceMode(hc, "PidMode", ["host"]);
  const uts = namespaceMode(hc, "UTSMode", ["host"]);
  const privileged = !!hc.Privileged;
  const oom = hc.OomScoreAdj ?? 0;
  if (oom < -1000 || oom > 1000) throw badRequest(`Invalid value ${oom}, range for oom score adj is [-1000, 1000]`);
  if (hc.UsernsMode && hc.UsernsMode !== "host") throw badRequest(`user namespaces are not supported yet (HostConfig.UsernsMode "${hc.UsernsMode}")`);
  if ((hc.VolumesFrom ?? []).length) throw badRequest("VolumesFrom is not supported yet (HostConfig.VolumesFrom)");
  if ((hc.DeviceRequests ?? []).length) throw badRequest(`could not select device driver "${hc.DeviceRequests[0]?.Driver ?? ""}" with capabilities: ${JSON.stringify(hc.DeviceRequests[0]?.Capabilities ?? [])}`);
  if ((hc.Links ?? []).length) throw badRequest("links are not supported yet (HostConfig.Links): they need bridge networks");
  const published = Object.entries((hc.PortBindings ?? {}) as Record<string, unknown[] | null>).filter(([, b]) => b?.length).map(([p]) => p);
  if (published.length || hc.PublishAllPorts) {
    warnings.push(`port publishing is not supported yet: ${published.length ? published.join(", ") : "-P"} not published`);
  }
  const cgroupns = (hc.CgroupnsMode as string | undefined) || "host";
  if (cgroupns !== "host" && cgroupns !== "private") throw badRequest(`invalid cgroup namespace mode: ${cgroupns}`);

  // dockerd: the host's name with --network host (unless -h), the short id otherwise.
  const hostname = (config.Hostname as string) || (net === "host" || uts === "host" ? host.hostname() : input.id.slice(0, 12));
  const sec = parseSecurityOpts(hc.SecurityOpt);
  warnings.push(...sec.warnings);
  const caps = capabilities(hc, host.caps());
  const user = resolveUser((config.User as string) || (image.User as string) || "",
    starting ? input.passwd ?? "" : input.passwd, starting ? input.group ?? "" : input.group, (hc.GroupAdd ?? []) as string[]);

  const process: Process = {
    ...(config.Tty ? { terminal: true } : {}),
    user,
    args: processArgs(config, image),
    env: processEnv(config, image, hostname),
    cwd: processCwd(config, image),
    // dockerd 20.10.14+ (CVE-2022-24769): no inheritable set; a non-root user starts with empty
    // effective and permitted sets, keeping only the bounding set for setuid/file-capability programs.
    capabilities: user.uid === 0
      ? { bounding: [...caps], effective: [...caps], permitted: [...caps] }
      : { bounding: [...caps] },
    oomScoreAdj: oom,
  };
  const cs = hc.ConsoleSize as number[] | undefined;
  if (config.Tty && cs && cs[0] > 0 && cs[1] > 0) process.consoleSize = { height: cs[0], width: cs[1] };
  const rl = rlimits(hc.Ulimits);
  if (rl.length) process.rlimits = rl;
  if (sec.noNewPrivileges) process.noNewPrivileges = true;

  const { mounts, mkdirs, warnings: mw } = buildMounts(input, host, { privileged, ipcMode: ipc, readonlyRootfs: !!hc.ReadonlyRootfs });
  warnings.push(...mw);
  if (hc.Init) {
    // as dockerd does with tini: the init, read-only at /sbin/docker-init, runs the command
    if (!input.initPath || !host.exists(input.initPath)) throw badRequest("--init: the init program (native/init/berth-init) is not built: run npm install");
    // where dockerd puts it: after the default mounts, before the /etc files and the user's
    const at = mounts.findIndex((m) => m.destination.startsWith("/etc/"));
    mounts.splice(at < 0 ? mounts.length : at, 0, { destination: INIT_DEST, type: "bind", source: input.initPath, options: ["bind", "ro"] });
    process.args = [INIT_DEST, "--", ...process.args!];
  }
  const { devices, rules } = buildDevices(hc, host);
  const resources = buildResources(hc, host, warnings);
  resources.devices = rules;

  const namespaces: Namespace[] = [{ type: "mount" }];
  if (net !== "host") namespaces.push({ type: "network" });
  if (uts !== "host") namespaces.push({ type: "uts" });
  if (pid !== "host") namespaces.push({ type: "pid" });
  if (ipc !== "host") namespaces.push({ type: "ipc" });
  if (cgroupns === "private") namespaces.push({ type: "cgroup" });

  const sysctl = buildSysctls(hc, { hostNetwork: net === "host", hostIpc: ipc === "host", hostUts: uts === "host", domainname: (config.Domainname as string) || "" });
  const spec: Spec = {
    ociVersion: OCI_VERSION,
    process,
    root: { path: input.rootfs, ...(hc.ReadonlyRootfs ? { readonly: true } : {}) },
    // Without its own UTS namespace the container cannot have its own name (runtimes refuse it).
    ...(uts === "host" ? {} : { hostname }),
    mounts,
    linux: {
      ...(Object.keys(sysctl).length ? { sysctl } : {}),
      resources,
      cgroupsPath: input.cgroupsPath,
      namespaces,
      ...(devices.length ? { devices } : {}),
    },
  };
  const seccomp = seccompFor(sec, privileged, caps);
  if (seccomp) spec.linux!.seccomp = seccomp;
  if (!privileged && !sec.unmaskSystemPaths) {
    spec.linux!.maskedPaths = (hc.MaskedPaths as string[] | undefined) ?? [...MASKED_PATHS];
    spec.linux!.readonlyPaths = (hc.ReadonlyPaths as string[] | undefined) ?? [...READONLY_PATHS];
  }
  if (hc.Annotations && Object.keys(hc.Annotations).length) spec.annotations = { ...hc.Annotations };
  return { spec, warnings, init: !!hc.Init, mkdirs, hostname };
}

/** A builder with the daemon's settings bound (what the container service's deps take). */
export function makeSpecBuilder(defaults: Pick<SpecInput, "bridgeAs" | "volume" | "host" | "initPath">): (input: SpecInput) => SpecOutput {
  return (input) => buildSpec({ ...defaults, ...input });
}

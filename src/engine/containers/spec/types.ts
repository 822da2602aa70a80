// What the spec builder reads and returns. The docker side (config, hostConfig, image) is plain
// JSON as the API decoded it; everything that touches the host (files, devices, the host name,
// named volumes) comes in through `host`, so the builder itself stays pure and unit-testable.
import type { Device, Spec } from "../../../runtime/spec/types.ts";

export type Json = Record<string, any>;

/** A host device node, as the builder needs it for --device and --privileged. */
export interface HostDevice {
  path: string;
  type: "c" | "b";
  major: number;
  minor: number;
  /** permission bits (st_mode & 0o7777) */
  fileMode: number;
  uid: number;
  gid: number;
}

export interface HostAccess {
  /** lstat-free stat of a path: undefined when it does not exist */
  exists(path: string): boolean;
  /** the device node at path (following symlinks), undefined when missing, throws if not a device */
  device(path: string): HostDevice | undefined;
  /** every device node under /dev, for --privileged (docker skips /dev/pts and /dev/.lxc etc.) */
  devices(): HostDevice[];
  /** the host's host name, for --network host and --uts host */
  hostname(): string;
  /**
   * the capabilities this daemon may hand out: its own bounding set (CapBnd). "All" capabilities
   * (--privileged, --cap-add ALL) means these: a kernel or a parent container may hold back some,
   * and asking capset for more fails the container (dockerd's runc does, on such hosts).
   */
  caps(): string[];
  /** whether the cgroup hierarchy has a blkio/io weight file (dockerd discards the weight otherwise) */
  blkioWeight(): boolean;
  /** number of online CPUs, and the cpuset the daemon may use ("0-1") */
  cpus(): { count: number; cpuset: string; mems: string };
}

export interface SpecInput {
  id: string;
  /** the container's Config (the lead passes it already merged with the image's) */
  config: Json;
  hostConfig: Json;
  /** the image config's "config" object */
  image: Json;
  /** the merged overlay root */
  rootfs: string;
  files: { hostsPath: string; hostnamePath: string; resolvConfPath: string };
  cgroupsPath: string;
  /** /etc/passwd and /etc/group of the rootfs (undefined: the file is missing) */
  passwd?: string;
  group?: string;
  /**
   * "create": a dry run before the rootfs exists; user and group names are not looked up then
   * (dockerd looks them up at start too). "start": names must resolve, a missing passwd file
   * counts as empty. Default: "start" when the rootfs directory exists, else "create".
   */
  phase?: "create" | "start";
  /**
   * NetworkMode default/bridge until bridge networks exist: "none" (as --network none, with a
   * warning the CLI prints on every run), "none-quiet" (the same, no warning: say it in
   * `docker info` instead), or "refuse" (400). Default "none".
   */
  bridgeAs?: "none" | "none-quiet" | "refuse";
  /** the host's path of the init `--init` mounts at /sbin/docker-init (native/init); none: --init is refused */
  initPath?: string;
  /** named volume name + destination → host directory; without it named volumes are a 400 */
  volume?: (name: string, destination: string) => string;
  /** host access; default: the real host (src/engine/containers/spec/host.ts) */
  host?: HostAccess;
}

export interface SpecOutput {
  spec: Spec;
  warnings: string[];
  /** HostConfig.Init: process.args starts with the init and "--" (the container's Path and Args do not) */
  init: boolean;
  /** host directories that -v binds name but that do not exist: docker creates them before start */
  mkdirs: string[];
  /** the container's host name as written to /etc/hostname (host's for --network host) */
  hostname: string;
}

export type { Device };

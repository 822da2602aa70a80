// Shapes shared by the cgroup modules. ContainerCgroup is plain data (JSON-serialisable), so
// `berth create` can store it in the container state and later commands (start, update,
// pause, delete) can act on it without re-resolving anything.

/** The container's cgroup in one hierarchy. */
export interface CgroupHierarchy {
  /** 1: a v1 controller hierarchy (incl. name=systemd); 2: the cgroup2 (unified) hierarchy. */
  version: 1 | 2;
  /** v1: the controllers mounted together, e.g. ["cpu"], ["cpu","cpuacct"], ["name=systemd"]; v2: []. */
  controllers: string[];
  /** Host mountpoint of the hierarchy, e.g. "/sys/fs/cgroup/memory". */
  mountpoint: string;
  /** The cgroup's path as seen below the mountpoint, e.g. "/berth/x". */
  path: string;
  /** mountpoint + path: the directory on the host. */
  dir: string;
  /** true: createCgroup made `dir` for this container; false: the directory already existed and
   *  the container joined it (a host cgroup such as /system.slice). Berth never writes limits
   *  onto, freezes or removes a joined cgroup. Absent in a plan, and in states written before
   *  this field existed (then `created` tells: see ownsDir in manager.ts). */
  owned?: boolean;
  /** For a joined dir: the child cgroups that existed when the container joined it. Their
   *  processes are not the container's and are never signalled. */
  foreignChildren?: string[];
}

export interface ContainerCgroup {
  /** The resolved cgroup path, e.g. "/berth/mycontainer", "/system.slice/docker-abc.scope" or a
   *  relative "a/b" (then hierarchies[].path says where it landed in each hierarchy). */
  path: string;
  /** Every cgroup directory of the container, one per hierarchy (deduplicated). */
  dirs: string[];
  /** Every cgroup.procs file the container's init must be written into (one per dir). */
  procsFiles: string[];
  /** Per hierarchy detail of `dirs`. */
  hierarchies: CgroupHierarchy[];
  /** Directories createCgroup made (including parents like /berth), parents first: destroy
   *  removes the empty ones so nothing is left behind. */
  created: string[];
  /** Things that were skipped or not enforced, for the CLI to print (and for dry runs). */
  warnings: string[];
}

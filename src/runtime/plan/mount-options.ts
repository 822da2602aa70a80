// config.json mount options -> mount(2) flags, propagation and filesystem data, as runc reads them.
import { MS } from "../linux.ts";
import { configError } from "../errors.ts";

export interface ParsedOptions {
  flags: number;       // MS_* flags for mount(2), including MS_BIND/MS_REC for binds
  propagation: number; // MS_SHARED/SLAVE/PRIVATE/UNBINDABLE (| MS_REC), applied after the mount
  data: string[];      // everything else, passed to the filesystem (size=, mode=, ...)
  bind: boolean;
  /** mount_setattr(2) attributes for the whole tree (rro, rnosuid, ...): 0 and 0 when none. */
  recAttrSet: number;
  recAttrClr: number;
}

// MOUNT_ATTR_* of <linux/mount.h>
export const MOUNT_ATTR = { RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, ATIME: 0x70, RELATIME: 0, NOATIME: 0x10, STRICTATIME: 0x20, NODIRATIME: 0x80, NOSYMFOLLOW: 0x200000 };

// runc's recursive options: option -> [set, clear]. The atime ones replace the whole atime
// setting (the kernel takes one of relatime/noatime/strictatime with __ATIME cleared).
const A = MOUNT_ATTR;
const REC_OPTIONS: Record<string, [number, number]> = {
  rro: [A.RDONLY, 0], rrw: [0, A.RDONLY],
  rnosuid: [A.NOSUID, 0], rsuid: [0, A.NOSUID],
  rnodev: [A.NODEV, 0], rdev: [0, A.NODEV],
  rnoexec: [A.NOEXEC, 0], rexec: [0, A.NOEXEC],
  rnodiratime: [A.NODIRATIME, 0], rdiratime: [0, A.NODIRATIME],
  rnosymfollow: [A.NOSYMFOLLOW, 0], rsymfollow: [0, A.NOSYMFOLLOW],
  rrelatime: [A.RELATIME, A.ATIME], ratime: [A.RELATIME, A.ATIME], rnorelatime: [A.STRICTATIME, A.ATIME],
  rnoatime: [A.NOATIME, A.ATIME], rstrictatime: [A.STRICTATIME, A.ATIME], rnostrictatime: [A.RELATIME, A.ATIME],
};

// option -> [set flags, clear flags]
const FLAG_OPTIONS: Record<string, [number, number]> = {
  ro: [MS.RDONLY, 0], rw: [0, MS.RDONLY],
  nosuid: [MS.NOSUID, 0], suid: [0, MS.NOSUID],
  nodev: [MS.NODEV, 0], dev: [0, MS.NODEV],
  noexec: [MS.NOEXEC, 0], exec: [0, MS.NOEXEC],
  sync: [MS.SYNCHRONOUS, 0], async: [0, MS.SYNCHRONOUS],
  dirsync: [MS.DIRSYNC, 0],
  remount: [MS.REMOUNT, 0],
  mand: [MS.MANDLOCK, 0], nomand: [0, MS.MANDLOCK],
  noatime: [MS.NOATIME, 0], atime: [0, MS.NOATIME],
  nodiratime: [MS.NODIRATIME, 0], diratime: [0, MS.NODIRATIME],
  relatime: [MS.RELATIME, 0], norelatime: [0, MS.RELATIME],
  strictatime: [MS.STRICTATIME, 0], nostrictatime: [0, MS.STRICTATIME],
  lazytime: [MS.LAZYTIME, 0], nolazytime: [0, MS.LAZYTIME],
  nosymfollow: [MS.NOSYMFOLLOW, 0], symfollow: [0, MS.NOSYMFOLLOW],
  bind: [MS.BIND, 0], rbind: [MS.BIND | MS.REC, 0],
  defaults: [0, 0], // mount(8)'s rw,suid,dev,exec,async: nothing to set
};

const PROPAGATION_OPTIONS: Record<string, number> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};

export function parseMountOptions(options: string[] | undefined, field: string, type?: string): ParsedOptions {
  let flags = 0;
  let propagation = 0;
  let recAttrSet = 0, recAttrClr = 0;
  const data: string[] = [];
  (options ?? []).forEach((opt, i) => {
    if (opt in FLAG_OPTIONS) {
      const [set, clear] = FLAG_OPTIONS[opt];
      flags = (flags & ~clear) | set;
    } else if (opt in REC_OPTIONS) {
      const [set, clear] = REC_OPTIONS[opt];
      if (clear & A.ATIME) {
        recAttrSet = (recAttrSet & ~A.ATIME) | set;
        recAttrClr |= A.ATIME;
      } else {
        // a later option wins: rro then rrw leaves the tree writable
        recAttrSet = (recAttrSet & ~clear) | set;
        recAttrClr = (recAttrClr & ~set) | clear;
      }
    } else if (opt in PROPAGATION_OPTIONS) {
      propagation = PROPAGATION_OPTIONS[opt];
    } else if (opt === "idmap" || opt === "ridmap") {
      throw configError(`${field}.options[${i}]`, `mount option "${opt}" (id-mapped mounts) is not supported by berth yet`);
    } else if (opt === "tmpcopyup") {
      // A runc extension (copy the image's files into a new tmpfs); ignored, like crun does without it.
    } else if (opt !== "") {
      data.push(opt);
    }
  });
  const bind = (flags & MS.BIND) !== 0 || type === "bind";
  if (bind) flags |= MS.BIND;
  return { flags, propagation, data, bind, recAttrSet, recAttrClr };
}

export function propagationFlag(value: string): number | undefined {
  return PROPAGATION_OPTIONS[value];
}

// Each flag's word in a plan's text, worked out once: a start describes some forty mounts.
const FLAG_WORDS = Object.entries(MS).map(([name, bit]) => [bit, name === "RDONLY" ? "ro" : name === "REC" ? "recursive" : name.toLowerCase()] as const);

const described = new Map<number, string>(); // a handful of combinations recur

export function describeFlags(flags: number): string {
  let out = described.get(flags);
  if (out !== undefined) return out;
  out = "";
  for (const [bit, word] of FLAG_WORDS) if (flags & bit) out += out ? `,${word}` : word;
  if (described.size < 256) described.set(flags, out);
  return out;
}

/** The recursive options among a mount's, for the plan's text: "rro,rnosuid". */
export function recursiveOptions(options: string[] | undefined): string {
  return (options ?? []).filter((o) => o in REC_OPTIONS).join(",");
}

// The plan's vocabulary. Each step kind maps to an op number and field layout that
// native/executor/plan.h mirrors; the encoder and the printer are both driven by this table.

export type FieldKind = "i" | "s";

export interface OpDef {
  code: number;
  /** [field name, kind] in wire order. */
  fields: [string, FieldKind][];
  /** Which process performs it: stage 0 before the clone, the parent after it, or the init. */
  stage: "pre-clone" | "clone" | "parent" | "init";
}

export const OPS = {
  setns: { code: 1, stage: "pre-clone", fields: [["path", "s"], ["nstype", "i"]] },
  consoleSocket: { code: 2, stage: "pre-clone", fields: [["path", "s"]] },
  openFifo: { code: 3, stage: "pre-clone", fields: [["path", "s"]] },
  agentConnect: { code: 5, stage: "pre-clone", fields: [["path", "s"]] },
  netnsAhead: { code: 58, stage: "pre-clone", fields: [] },
  awaitGo: { code: 59, stage: "pre-clone", fields: [] },
  clone: { code: 4, stage: "clone", fields: [["flags", "i"], ["mode", "i"]] },
  uidMap: { code: 10, stage: "parent", fields: [["map", "s"]] },
  gidMap: { code: 11, stage: "parent", fields: [["map", "s"]] },
  setgroups: { code: 12, stage: "parent", fields: [["value", "s"]] },
  cgroupInto: { code: 57, stage: "parent", fields: [["dir", "s"]] },
  oomScoreAdj: { code: 14, stage: "parent", fields: [["value", "s"]] },
  bindSource: { code: 53, stage: "parent", fields: [["path", "s"]] },
  unshare: { code: 20, stage: "init", fields: [["flags", "i"]] },
  becomeRoot: { code: 21, stage: "init", fields: [] },
  loopbackUp: { code: 22, stage: "init", fields: [] },
  propagation: { code: 23, stage: "init", fields: [["target", "s"], ["flags", "i"]] },
  rootfs: { code: 24, stage: "init", fields: [["path", "s"], ["parentPrivate", "i"]] },
  mount: {
    code: 25,
    stage: "init",
    fields: [
      ["source", "s"], ["dest", "s"], ["fstype", "s"], ["flags", "i"], ["data", "s"],
      ["mkdir", "i"], ["resolve", "i"], ["propagation", "i"], ["remount", "i"],
    ],
  },
  symlink: { code: 26, stage: "init", fields: [["target", "s"], ["path", "s"]] },
  mountSetattr: { code: 52, stage: "init", fields: [["dest", "s"], ["attrSet", "i"], ["attrClr", "i"]] },
  mknod: {
    code: 27,
    stage: "init",
    fields: [["path", "s"], ["mode", "i"], ["major", "i"], ["minor", "i"], ["uid", "i"], ["gid", "i"]],
  },
  bindDevice: { code: 28, stage: "init", fields: [["hostPath", "s"], ["path", "s"]] },
  pivot: { code: 29, stage: "init", fields: [["noPivot", "i"]] },
  console: { code: 30, stage: "init", fields: [["rows", "i"], ["cols", "i"], ["bindConsole", "i"]] },
  sethostname: { code: 31, stage: "init", fields: [["name", "s"]] },
  setdomainname: { code: 32, stage: "init", fields: [["name", "s"]] },
  write: { code: 33, stage: "init", fields: [["path", "s"], ["value", "s"]] },
  mask: { code: 34, stage: "init", fields: [["path", "s"]] },
  readonly: { code: 35, stage: "init", fields: [["path", "s"]] },
  rootReadonly: { code: 36, stage: "init", fields: [] },
  rlimit: { code: 37, stage: "init", fields: [["resource", "i"], ["soft", "i"], ["hard", "i"]] },
  capBounding: { code: 38, stage: "init", fields: [["keepLo", "i"], ["keepHi", "i"]] },
  user: { code: 39, stage: "init", fields: [["uid", "i"], ["gid", "i"], ["groups", "s"], ["setgroups", "i"]] },
  caps: {
    code: 40,
    stage: "init",
    fields: [["effective", "i"], ["permitted", "i"], ["inheritable", "i"], ["ambient", "i"]],
  },
  noNewPrivs: { code: 41, stage: "init", fields: [] },
  seccomp: { code: 42, stage: "init", fields: [["filter", "s"], ["flags", "i"]] },
  seccompNotify: {
    code: 54,
    stage: "init",
    fields: [["filter", "s"], ["flags", "i"], ["path", "s"], ["head", "s"], ["mid", "s"], ["tail", "s"]],
  },
  umask: { code: 43, stage: "init", fields: [["mask", "i"]] },
  cwd: { code: 44, stage: "init", fields: [["path", "s"]] },
  waitFifo: { code: 45, stage: "init", fields: [] },
  cgroupSelf: { code: 56, stage: "init", fields: [["tasksFile", "s"]] },
  cgroupWait: { code: 48, stage: "init", fields: [] },
  commit: { code: 60, stage: "init", fields: [] },
  hookPoint: { code: 49, stage: "init", fields: [] },
  chroot: { code: 55, stage: "init", fields: [["path", "s"]] },
  lookup: { code: 51, stage: "init", fields: [["argv0", "s"], ["path", "s"]] },
  runHook: { code: 50, stage: "init", fields: [["path", "s"], ["argv", "s"], ["envp", "s"], ["timeout", "i"], ["cwd", "s"]] },
  exec: { code: 46, stage: "init", fields: [["argv", "s"], ["envp", "s"], ["preserveFds", "i"]] },
} as const satisfies Record<string, OpDef>;

export type OpName = keyof typeof OPS;

/** stage-0 modes of OP_CLONE */
export const MODE = { foreground: 0, detach: 1, create: 2 } as const;

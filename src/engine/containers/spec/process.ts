// The process half of the spec: argv from Entrypoint/Cmd, the environment, the user from the
// container's own /etc/passwd and /etc/group, rlimits and capabilities, with docker's rules.
import { badRequest } from "../../errors.ts";
import { CAPABILITIES, RLIMITS } from "../../../runtime/linux.ts";
import type { Rlimit, User } from "../../../runtime/spec/types.ts";
import type { Json } from "./types.ts";

export const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const list = (v: unknown): string[] | undefined =>
  v === null || v === undefined ? undefined : typeof v === "string" ? [v] : (v as string[]);

/**
 * argv: Entrypoint + Cmd. An Entrypoint given by the user drops the image's Cmd unless a Cmd is
 * given too; `--entrypoint ""` (sent as [""]) clears the image's entrypoint.
 */
export function processArgs(config: Json, image: Json): string[] {
  let ep = list(config.Entrypoint);
  let cmd = list(config.Cmd);
  if (ep === undefined) {
    ep = list(image.Entrypoint) ?? [];
    if (cmd === undefined) cmd = list(image.Cmd);
  }
  if (ep.length === 1 && ep[0] === "") ep = [];
  const args = [...ep, ...(cmd ?? [])];
  if (!args.length) throw badRequest("No command specified");
  return args;
}

const keyOf = (e: string) => (e.includes("=") ? e.slice(0, e.indexOf("=")) : e);

/** Replace-or-append by key, keeping positions (docker's ReplaceOrAppendEnvValues); "KEY" alone unsets. */
function mergeEnv(base: string[], over: readonly string[]): string[] {
  const out = [...base];
  for (const e of over) {
    if (e === "" || e.startsWith("=")) throw badRequest(`invalid environment variable: ${JSON.stringify(e)}`);
    const k = keyOf(e);
    const i = out.findIndex((x) => keyOf(x) === k);
    if (!e.includes("=")) {
      if (i >= 0) out.splice(i, 1);
    } else if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out;
}

/** PATH, HOSTNAME, TERM=xterm with a tty, then the image's env, then the container's (later wins). */
export function processEnv(config: Json, image: Json, hostname: string): string[] {
  const base = [DEFAULT_PATH, `HOSTNAME=${hostname}`, ...(config.Tty ? ["TERM=xterm"] : [])];
  return mergeEnv(mergeEnv(base, (image.Env ?? []) as string[]), (config.Env ?? []) as string[]);
}

export function processCwd(config: Json, image: Json): string {
  const wd = (config.WorkingDir || image.WorkingDir || "/") as string;
  if (!wd.startsWith("/")) throw badRequest(`the working directory '${wd}' is invalid, it needs to be an absolute path`);
  // Cleaned as dockerd stores it ("/a/../.." is "/").
  const parts: string[] = [];
  for (const s of wd.split("/")) {
    if (s === "" || s === ".") continue;
    if (s === "..") parts.pop();
    else parts.push(s);
  }
  return "/" + parts.join("/");
}

function table(text: string | undefined): string[][] {
  return (text ?? "").split("\n").filter((l) => l.trim() && !l.startsWith("#")).map((l) => l.split(":"));
}

const MAX_ID = 0xfffffffe;
const isNum = (s: string) => /^\d+$/.test(s);

/**
 * docker's --user: "name", "uid", "uid:gid", "name:group", resolved in the container's own
 * /etc/passwd and /etc/group. Supplementary groups: the primary group, the groups listing the
 * user, then GroupAdd (names or ids), as dockerd puts them. Without passwd (create time, no
 * rootfs yet) names are not resolved and numeric ids are used as given.
 */
export function resolveUser(spec: string, passwd: string | undefined, group: string | undefined, groupAdd: readonly string[] = []): User {
  const resolving = passwd !== undefined;
  const colon = spec.indexOf(":");
  const u = colon < 0 ? spec : spec.slice(0, colon);
  const g = colon < 0 ? undefined : spec.slice(colon + 1);
  const users = table(passwd), groups = table(group);
  let uid = 0, gid = 0, name: string | undefined;
  if (u === "") {
    const root = users.find((f) => f[2] === "0");
    name = root?.[0];
  } else if (isNum(u)) {
    uid = Number(u);
    const e = users.find((f) => Number(f[2]) === uid);
    if (e) {
      gid = Number(e[3]);
      name = e[0];
    }
  } else if (resolving) {
    const e = users.find((f) => f[0] === u);
    if (!e) throw badRequest(`unable to find user ${u}: no matching entries in passwd file`);
    uid = Number(e[2]);
    gid = Number(e[3]);
    name = e[0];
  }
  if (g !== undefined && g !== "") {
    if (isNum(g)) gid = Number(g);
    else if (resolving) {
      const e = groups.find((f) => f[0] === g);
      if (!e) throw badRequest(`unable to find group ${g}: no matching entries in group file`);
      gid = Number(e[2]);
    }
  }
  if (uid > MAX_ID || gid > MAX_ID) throw badRequest(`invalid user ${spec}: ids above ${MAX_ID} are not allowed`);
  const extra: number[] = [gid];
  const add = (n: number) => {
    if (!extra.includes(n)) extra.push(n);
  };
  if (name) for (const e of groups) if ((e[3] ?? "").split(",").map((s) => s.trim()).includes(name)) add(Number(e[2]));
  for (const a of groupAdd) {
    if (isNum(a)) add(Number(a));
    else if (resolving) {
      const e = groups.find((f) => f[0] === a);
      if (!e) throw badRequest(`Unable to find group ${a}: no matching entries in group file`);
      add(Number(e[2]));
    }
  }
  return { uid, gid, additionalGids: extra };
}

/** HostConfig.Ulimits → process.rlimits. */
export function rlimits(ulimits: readonly Json[] | null | undefined): Rlimit[] {
  return (ulimits ?? []).map((u, i) => {
    const type = `RLIMIT_${String(u.Name).toUpperCase()}`;
    if (!(type in RLIMITS)) throw badRequest(`invalid ulimit type: ${u.Name} (HostConfig.Ulimits[${i}])`);
    if (u.Soft > u.Hard) throw badRequest(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
    return { type, hard: u.Hard, soft: u.Soft };
  });
}

/** Docker's 14 default capabilities, in docker's order. */
export const DEFAULT_CAPS = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
];


function normCap(c: string, field: string): string {
  const up = c.toUpperCase();
  if (up === "ALL") return "ALL";
  const name = up.startsWith("CAP_") ? up : `CAP_${up}`;
  if (!(CAPABILITIES as readonly string[]).includes(name)) throw badRequest(`invalid ${field}: unknown capability: "${name}"`);
  return name;
}

/**
 * Default set ± CapAdd/CapDrop, docker's way: "ALL" in CapAdd starts from every capability,
 * "ALL" in CapDrop from none; drops come off the defaults, adds are appended in the order given.
 * "Every capability" is what the daemon holds (`held`, in bit order); a capability named
 * explicitly is kept even if not held, so the runtime's capset error says which one.
 */
export function capabilities(hc: Json, held: readonly string[]): string[] {
  const all = [...held];
  if (hc.Privileged) return all;
  const adds = ((hc.CapAdd ?? []) as string[]).map((c) => normCap(c, "CapAdd"));
  const drops = ((hc.CapDrop ?? []) as string[]).map((c) => normCap(c, "CapDrop"));
  // An explicit add wins over the same drop (the add is applied last).
  const base = (adds.includes("ALL") ? [...all] : drops.includes("ALL") ? [] : [...DEFAULT_CAPS]).filter((c) => !drops.includes(c));
  for (const c of adds) if (c !== "ALL" && !base.includes(c)) base.push(c);
  return base;
}

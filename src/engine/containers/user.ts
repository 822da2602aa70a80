// docker's --user: "name", "uid", "uid:gid", "name:group", looked up in the container's own
// /etc/passwd and /etc/group (not the host's), as dockerd does at start.
import { badRequest } from "../errors.ts";
import type { User } from "../../runtime/spec/types.ts";
import { CAPABILITIES } from "../../runtime/linux.ts";

/** Every capability, for --privileged processes (names as the OCI spec writes them). */
export const ALL_CAPS: string[] = [...CAPABILITIES];

function table(text: string | undefined): string[][] {
  return (text ?? "").split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(":"));
}

export function resolveUser(spec: string, passwd?: string, group?: string, groupAdd: string[] = []): User {
  const [u, g] = spec.split(":", 2);
  const users = table(passwd), groups = table(group);
  let uid: number, gid: number;
  const byName = users.find((f) => f[0] === u);
  if (/^\d+$/.test(u)) {
    uid = Number(u);
    const entry = users.find((f) => Number(f[2]) === uid);
    gid = entry ? Number(entry[3]) : 0;
  } else if (byName) {
    uid = Number(byName[2]);
    gid = Number(byName[3]);
  } else if (u === "") {
    uid = 0;
    gid = 0;
  } else {
    throw badRequest(`unable to find user ${u}: no matching entries in passwd file`);
  }
  if (g !== undefined && g !== "") {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const ge = groups.find((f) => f[0] === g);
      if (!ge) throw badRequest(`unable to find group ${g}: no matching entries in group file`);
      gid = Number(ge[2]);
    }
  }
  if (uid > 0xfffffffe || gid > 0xfffffffe) throw badRequest(`invalid user ${spec}: ids above 4294967294 are not allowed`);
  const name = byName?.[0] ?? users.find((f) => Number(f[2]) === uid)?.[0];
  const extra = new Set<number>();
  if (name) for (const ge of groups) if ((ge[3] ?? "").split(",").includes(name) && Number(ge[2]) !== gid) extra.add(Number(ge[2]));
  for (const a of groupAdd) {
    if (/^\d+$/.test(a)) extra.add(Number(a));
    else {
      const ge = groups.find((f) => f[0] === a);
      if (!ge) throw badRequest(`unable to find group ${a}: no matching entries in group file`);
      extra.add(Number(ge[2]));
    }
  }
  return { uid, gid, ...(extra.size ? { additionalGids: [...extra] } : {}) };
}

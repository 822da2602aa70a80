// linux.cgroupsPath → the cgroup path of a container.
//
// Semantics (matching runc 1.1's cgroupfs driver, checked on this host with runc 1.1.5):
//   "/a/b"   absolute: the same path below the root of every hierarchy (/sys/fs/cgroup/<ctrl>/a/b).
//   "a/b"    relative: below the cgroup of the calling process, per hierarchy (runc does this too;
//            on a pure v2 host runc uses the *parent* of its own cgroup, because the caller's own
//            cgroup (e.g. a login session scope) holds processes and so can't enable controllers
//            for children — we do the same).
//   absent   runc uses "<id>" *relative* (so the container lands under whatever cgroup the
//            runc caller is in, e.g. /user.slice/.../session-1.scope/<id> in v1 hierarchies).
//            Berth deliberately uses the absolute "/berth/<id>" instead: the same place in every
//            hierarchy whoever runs the CLI, easy to find, and never nested below a session
//            scope full of processes. Engines (containerd, berthd) always pass cgroupsPath.
//   systemd  with the systemd-cgroup flag, "slice:prefix:name" names a systemd unit; we map it
//            to the plain path the unit would have (we don't talk to systemd over D-Bus):
//            "system.slice:docker:abc" → "/system.slice/docker-abc.scope",
//            "a-b.slice:p:n" → "/a.slice/a-b.slice/p-n.scope"; a name ending in ".slice" is used
//            as is. Absent cgroupsPath → "system.slice:berth:<id>".
//
// runc silently clamps ".." that would climb above the root ("../../x" → "x"); Berth rejects
// such a path instead, as it is almost certainly a mistake or an attack.

import { cgroupError } from "./fsops";

function configError(field: string, message: string, hint?: string) {
  return cgroupError(message, { field, hint });
}

const FIELD = "linux.cgroupsPath";

/** Normalise "." and ".." in a slash path; throws if ".." climbs above its start. */
function normalise(p: string, original: string): string {
  const abs = p.startsWith("/");
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length === 0)
        throw configError(
          FIELD,
          `cgroupsPath ${JSON.stringify(original)} escapes its ${abs ? "hierarchy root" : "parent cgroup"} with ".."`,
          'remove the ".." components; use an absolute path like "/mygroup/<id>" to place the container elsewhere',
        );
      out.pop();
      continue;
    }
    out.push(part);
  }
  return (abs ? "/" : "") + out.join("/");
}

/** systemd's slice naming: "a-b-c.slice" → "/a.slice/a-b.slice/a-b-c.slice", "-.slice" → "/". */
export function expandSlice(slice: string, original: string): string {
  const bad = (why: string) =>
    configError(
      FIELD,
      `invalid systemd slice ${JSON.stringify(slice)} in cgroupsPath ${JSON.stringify(original)}: ${why}`,
      'a slice is like "system.slice" or "machine-foo.slice"; the systemd form is "slice:prefix:name"',
    );
  if (!slice.endsWith(".slice") || slice.length <= ".slice".length) throw bad('it must end in ".slice"');
  if (slice.includes("/")) throw bad('it must not contain "/"');
  const base = slice.slice(0, -".slice".length);
  if (base === "-") return "/";
  let path = "";
  let prefix = "";
  for (const comp of base.split("-")) {
    if (comp === "") throw bad('empty component (leading, trailing or double "-")');
    path += `/${prefix}${comp}.slice`;
    prefix += `${comp}-`;
  }
  return path;
}

function checkId(id: string): void {
  if (!id || id.includes("/") || id === "." || id === ".." || id.includes("\0"))
    throw configError(FIELD, `container id ${JSON.stringify(id)} cannot be used as a cgroup name`);
}

/**
 * The cgroup path of a container: absolute ("/berth/x", "/system.slice/docker-x.scope") or
 * relative to the caller's cgroup ("a/b"). Throws a config error naming linux.cgroupsPath.
 */
export function resolveCgroupPath(id: string, cgroupsPath: string | undefined, systemdCgroup = false): string {
  if (cgroupsPath !== undefined && cgroupsPath.includes("\0"))
    throw configError(FIELD, "cgroupsPath contains a NUL byte");

  if (systemdCgroup) {
    const spec = cgroupsPath ? cgroupsPath : (checkId(id), `system.slice:berth:${id}`);
    const parts = spec.split(":");
    if (parts.length !== 3)
      throw configError(
        FIELD,
        `cgroupsPath ${JSON.stringify(spec)} is not of the systemd form "slice:prefix:name"`,
        'with the systemd cgroup driver, use e.g. "system.slice:berth:<id>" (or drop --systemd-cgroup to use a plain path)',
      );
    const [slice, prefix, name] = parts as [string, string, string];
    if (!name || name.includes("/") || prefix.includes("/"))
      throw configError(FIELD, `cgroupsPath ${JSON.stringify(spec)}: the unit name must be non-empty and without "/"`);
    const sliceDir = expandSlice(slice || "system.slice", spec);
    // A ".slice" name is a slice unit of its own; anything else becomes a scope "<prefix>-<name>.scope"
    // (runc does the same, including the odd "-name.scope" when prefix is empty).
    const unit = name.endsWith(".slice") ? name : `${prefix}-${name}.scope`;
    return (sliceDir === "/" ? "" : sliceDir) + "/" + unit;
  }

  if (!cgroupsPath) {
    checkId(id);
    return `/berth/${id}`;
  }
  const p = normalise(cgroupsPath, cgroupsPath);
  if (p === "/" || p === "")
    throw configError(
      FIELD,
      `cgroupsPath ${JSON.stringify(cgroupsPath)} names the ${p === "/" ? "root cgroup" : "caller's own cgroup"}, which a container cannot own`,
      'give the container its own cgroup, e.g. "/berth/<id>"',
    );
  return p;
}

/**
 * Where the container's cgroup is inside one hierarchy, as seen from its mountpoint.
 * `own` is the caller's cgroup in that hierarchy (from /proc/self/cgroup) and `mountRoot` the
 * mount's root inside the hierarchy (mountinfo field 4).
 */
export function pathInHierarchy(resolved: string, own: string, mountRoot: string, useOwnParent: boolean): string {
  if (resolved.startsWith("/")) return resolved;
  let base = own || "/";
  // Make the caller's cgroup relative to what the mount shows.
  if (mountRoot !== "/" && (base === mountRoot || base.startsWith(mountRoot + "/"))) base = base.slice(mountRoot.length) || "/";
  if (useOwnParent && base !== "/") base = base.slice(0, base.lastIndexOf("/")) || "/";
  return (base === "/" ? "" : base) + "/" + resolved;
}

// Dev tool: for each container captured by capture-docker-specs.ts (its inspect output and the
// config.json dockerd handed to runc), builds our spec from the same Config + HostConfig and
// prints the differences after normalising paths that differ by design (rootfs, per-container
// files, cgroup parent, hooks). Usage: bun scripts/compare-docker-specs.ts /tmp/out [name...]
import fs from "node:fs";
import { buildSpec, realHost } from "../src/engine/containers/spec/index.ts";

const dir = process.argv[2] ?? "/tmp/ctrspec-capture";
const only = process.argv.slice(3);
const norm = (s: any, id: string) => {
  const j = JSON.parse(JSON.stringify(s).replaceAll(`/containers/${id}/`, "/CTR/"));
  delete j.hooks;
  delete j.root.path;
  delete j.linux.cgroupsPath;
  for (const m of j.mounts) if (m.source?.includes("/CTR/")) m.source = m.source.slice(m.source.indexOf("/CTR/"));
  for (const ns of j.linux.namespaces) delete ns.path;
  const r = j.linux.resources;
  if (r.memory && r.memory.disableOOMKiller === false) delete r.memory.disableOOMKiller;
  if (r.cpu && r.cpu.shares === 0) delete r.cpu.shares;
  if (r.blockIO && r.blockIO.weight === 0) delete r.blockIO;
  for (const k of Object.keys(r)) if (r[k] && typeof r[k] === "object" && !Array.isArray(r[k]) && !Object.keys(r[k]).length) delete r[k];
  return j;
};
function diff(a: any, b: any, p: string, out: string[]) {
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) diff(a[k], b[k], `${p}.${k}`, out);
    return;
  }
  out.push(`${p}: docker=${JSON.stringify(a)?.slice(0, 300)} berth=${JSON.stringify(b)?.slice(0, 300)}`);
}
for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".inspect.json")).sort()) {
  const name = f.slice(0, -".inspect.json".length);
  if (only.length && !only.includes(name)) continue;
  if (!fs.existsSync(`${dir}/${name}.json`)) continue;
  const ins = JSON.parse(fs.readFileSync(`${dir}/${f}`, "utf8"))[0];
  const docker = JSON.parse(fs.readFileSync(`${dir}/${name}.json`, "utf8"));
  const passwd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n";
  const group = "root:x:0:\nnogroup:x:65534:\n";
  let ours;
  try {
    ours = buildSpec({
      id: ins.Id, config: { ...ins.Config, Entrypoint: ins.Config.Entrypoint }, hostConfig: ins.HostConfig, image: {},
      rootfs: "/rootfs", files: { hostsPath: "/CTR/hosts", hostnamePath: "/CTR/hostname", resolvConfPath: "/CTR/resolv.conf" },
      cgroupsPath: "/x", passwd, group, host: { ...realHost, hostname: () => docker.hostname ?? realHost.hostname() },
    });
  } catch (e) {
    console.log(`== ${name}: buildSpec threw ${(e as Error).message}`);
    continue;
  }
  const out: string[] = [];
  const a = norm(docker, ins.Id), b = norm(ours.spec, ins.Id);
  // seccomp: compared as "which syscalls are allowed unconditionally / conditionally", not as text.
  const summary = (s: any) => {
    if (!s) return undefined;
    const plain = new Set<string>(), cond: string[] = [];
    for (const r of s.syscalls ?? []) for (const n of r.names) (r.action === "SCMP_ACT_ALLOW" && !r.args ? plain.add(n) : cond.push(`${n}:${r.action}:${JSON.stringify(r.args ?? [])}`));
    return { defaultAction: s.defaultAction, plain, cond: cond.sort() };
  };
  const sa = summary(a.linux.seccomp), sb = summary(b.linux.seccomp);
  delete a.linux.seccomp;
  delete b.linux.seccomp;
  if (!!sa !== !!sb) out.push(`seccomp: docker=${!!sa} berth=${!!sb}`);
  else if (sa && sb) {
    if (sa.defaultAction !== sb.defaultAction) out.push(`seccomp.defaultAction ${sa.defaultAction} ${sb.defaultAction}`);
    const only = (x: Set<string>, y: Set<string>) => [...x].filter((n) => !y.has(n)).sort().join(",");
    const d1 = only(sa.plain, sb.plain), d2 = only(sb.plain, sa.plain);
    if (d1 || d2) out.push(`seccomp allowed: docker-only=[${d1}] berth-only=[${d2}]`);
    const c1 = sa.cond.filter((c) => !sb.cond.includes(c)), c2 = sb.cond.filter((c) => !sa.cond.includes(c));
    if (c1.length || c2.length) out.push(`seccomp conditional: docker-only=${c1.join(" ")} berth-only=${c2.join(" ")}`);
  }
  diff(a, b, "", out);
  console.log(`== ${name}: ${out.length ? `${out.length} differences` : "same"}${ours.warnings.length ? ` warnings=${JSON.stringify(ours.warnings)}` : ""}`);
  for (const l of out) console.log("   " + l);
}

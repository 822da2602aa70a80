// Dev tool: turns a capture-docker-specs.ts directory into test/fixtures/engine-spec/dockerd.json:
// for each case, the request fields that are set (from `docker inspect`) and the digest
// (test/helpers/spec-normalise.ts) of the config.json dockerd gave runc.
// Usage: bun scripts/make-spec-fixtures.ts /tmp/out
import fs from "node:fs";
import { digest } from "../test/helpers/spec-normalise.ts";

const dir = process.argv[2] ?? "/tmp/ctrspec-capture";
const set = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) =>
  v !== null && v !== "" && v !== 0 && v !== false && !(Array.isArray(v) && !v.length) && !(typeof v === "object" && !Array.isArray(v) && !Object.keys(v as object).length)));
const cases: Record<string, unknown> = {};
for (const f of fs.readdirSync(dir).filter((f) => f.startsWith("cap-") && f.endsWith(".inspect.json")).sort()) {
  const name = f.slice(4, -".inspect.json".length);
  if (!fs.existsSync(`${dir}/cap-${name}.json`)) continue;
  const ins = JSON.parse(fs.readFileSync(`${dir}/${f}`, "utf8"))[0];
  const spec = JSON.parse(fs.readFileSync(`${dir}/cap-${name}.json`, "utf8"));
  const hc = set(ins.HostConfig);
  // The CLI sends systempaths=unconfined as empty MaskedPaths/ReadonlyPaths.
  for (const k of ["MaskedPaths", "ReadonlyPaths"]) if (Array.isArray(ins.HostConfig[k]) && !ins.HostConfig[k].length) hc[k] = [];
  // Fields dockerd fills in itself (and that the CLI does not send).
  for (const k of ["LogConfig", "RestartPolicy", "ConsoleSize", "Runtime"]) delete hc[k];
  if (hc.CgroupnsMode === "host") delete hc.CgroupnsMode;
  if (!(ins.HostConfig.MemorySwappiness >= 0)) delete hc.MemorySwappiness;
  if (ins.HostConfig.ShmSize === 64 * 1024 * 1024) delete hc.ShmSize;
  // dockerd stores its default masked/read-only lists in the container; the CLI sends null.
  if ((hc.MaskedPaths as string[] | undefined)?.length) delete hc.MaskedPaths;
  if ((hc.ReadonlyPaths as string[] | undefined)?.length) delete hc.ReadonlyPaths;
  if (Array.isArray(hc.SecurityOpt)) {
    hc.SecurityOpt = (hc.SecurityOpt as string[]).filter((s) => s !== "label=disable");
    if (!(hc.SecurityOpt as string[]).length) delete hc.SecurityOpt;
  }
  const config = set({ Hostname: ins.Config.Hostname, Domainname: ins.Config.Domainname, User: ins.Config.User, Tty: ins.Config.Tty, Env: ins.Config.Env, Cmd: ins.Config.Cmd, Entrypoint: ins.Config.Entrypoint, WorkingDir: ins.Config.WorkingDir });
  const d = digest(spec, new RegExp(`^.*/containers/${ins.Id}/`));
  cases[name] = { config, hostConfig: hc, hostname: spec.hostname ?? null, dockerd: d };
}
fs.mkdirSync("test/fixtures/engine-spec", { recursive: true });
// One case per line: diffs of a re-recording stay readable.
const about = "Digests (test/helpers/spec-normalise.ts) of the config.json Debian's dockerd 20.10.24 generated for each request, recorded by scripts/capture-docker-specs.ts + make-spec-fixtures.ts; test/unit/engine-spec-docker.test.ts compares Berth's spec builder with them.";
const lines = Object.entries(cases).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
fs.writeFileSync("test/fixtures/engine-spec/dockerd.json", `{\n "about": ${JSON.stringify(about)},\n "cases": {\n${lines.join(",\n")}\n }\n}\n`);
console.log(Object.keys(cases).join(" "));

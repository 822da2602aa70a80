// berth update [flags] <container-id>: change a live container's resource limits, with runc's
// flags or --resources FILE|- (an OCI LinuxResources JSON, as containerd sends it).
import fs from "node:fs";
import tty from "node:tty";
import { debug, type Globals } from "../main.ts";
import { parseFlags, formatFlagHelp, type FlagDefs } from "../flags.ts";
import { BerthError } from "../../runtime/errors.ts";
import { validateId } from "../../runtime/state/index.ts";
import { ignoredResourceFields, resourcesFromFlags, resourcesFromJson, updateContainer } from "../../runtime/container/update.ts";
import type { Resources } from "../../runtime/spec/types.ts";
import { stderr, stdout } from "../output.ts";

const FLAGS = {
  resources: { type: "string", short: "r", value: "FILE", help: "an OCI LinuxResources JSON file, or - for stdin (the other flags are then ignored)" },
  blkioWeight: { type: "int", help: "per cgroup block IO weight, 10 to 1000" },
  cpuPeriod: { type: "string", value: "US", help: "CPU CFS period (µs); 0 keeps the current one" },
  cpuQuota: { type: "string", value: "US", help: "CPU CFS quota (µs) per period; -1 for none" },
  cpuShare: { type: "string", value: "N", help: "CPU shares (relative weight)" },
  cpuShares: { type: "string", value: "N", help: "same as --cpu-share" },
  cpuRtPeriod: { type: "string", value: "US", help: "CPU realtime period (µs)" },
  cpuRtRuntime: { type: "string", value: "US", help: "CPU realtime runtime (µs) per period" },
  cpusetCpus: { type: "string", value: "LIST", help: "CPUs to use, e.g. 0-2,4" },
  cpusetMems: { type: "string", value: "LIST", help: "memory nodes to use" },
  kernelMemory: { type: "string", value: "SIZE", help: "(obsolete, ignored)" },
  kernelMemoryTcp: { type: "string", value: "SIZE", help: "(obsolete, ignored)" },
  memory: { type: "string", value: "SIZE", help: "memory limit: bytes or 512k, 64m, 1g...; -1 for unlimited" },
  memoryReservation: { type: "string", value: "SIZE", help: "memory soft limit" },
  memorySwap: { type: "string", value: "SIZE", help: "memory+swap limit; -1 for unlimited swap" },
  pidsLimit: { type: "int", help: "maximum number of processes; -1 for unlimited" },
  l3CacheSchema: { type: "string", value: "S", help: "Intel RDT L3 cache schema (not supported)" },
  memBwSchema: { type: "string", value: "S", help: "Intel RDT memory bandwidth schema (not supported)" },
  help: { type: "boolean", short: "h" },
} as const satisfies FlagDefs;

const USAGE = `usage: berth update [options] <container-id>

Updates the resource limits of a running, paused or created container, and records them in its
saved config. Sizes take binary suffixes (k, m, g, t, p); 0 or an absent flag leaves a value as it is.
Only memory, cpu, cpuset, blkio weight, pids and unified settings are updated (as runc).

options:
${formatFlagHelp(FLAGS)}
`;

/** A LinuxResources document is a few hundred bytes; more than this is not one (e.g. /dev/zero). */
const MAX_RESOURCES = 4 << 20;

function readResources(file: string): string {
  const name = file === "-" ? "stdin" : file;
  const fail = (why: string, code?: string) =>
    new BerthError(`cannot read the resources from ${name}: ${why}`, { phase: "update", field: "update --resources", errno: code });
  let fd = 0;
  try {
    if (file !== "-") fd = fs.openSync(file, "r");
    else if (tty.isatty(0)) stderr("berth: update: reading the resources JSON from the terminal; end it with Ctrl-D\n");
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.alloc(65536);
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EAGAIN") { Bun.sleepSync(5); continue; }
        throw e;
      }
      if (n === 0) break;
      total += n;
      if (total > MAX_RESOURCES) throw fail(`more than ${MAX_RESOURCES >> 20} MiB: not a LinuxResources JSON document`);
      chunks.push(buf.subarray(0, n));
    }
    return Buffer.concat(chunks).toString("utf8");
  } catch (e) {
    if (e instanceof BerthError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw fail(code ?? (e as Error).message, code);
  } finally {
    if (fd !== 0) fs.closeSync(fd);
  }
}

export async function run(argv: string[], g: Globals): Promise<number> {
  const { flags, positionals, given } = parseFlags(argv, FLAGS, { command: "berth update", interspersed: true });
  if (flags.help) {
    stdout(USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new BerthError(`berth update takes exactly one container id, got ${positionals.length}`, { phase: "args", hint: USAGE.split("\n")[0] });
  const id = validateId(positionals[0]);
  for (const [flag, v] of [["--l3-cache-schema", flags.l3CacheSchema], ["--mem-bw-schema", flags.memBwSchema]] as const) {
    if (v) {
      throw new BerthError(`${flag} can't be applied: Intel RDT (resctrl) is not supported by berth`, { phase: "update", field: `update ${flag}`, hint: "remove the flag; berth manages no resctrl groups" });
    }
  }
  let resources: Resources;
  const fromFlags = flags.resources === undefined || flags.resources === "";
  if (!fromFlags) {
    const ignored = [...given].filter((k) => k !== "resources" && k !== "help");
    if (ignored.length) stderr(`berth: warning: update: with --resources the other flags are ignored (as runc): ${ignored.map((k) => "--" + k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())).join(", ")}\n`);
    resources = resourcesFromJson(readResources(flags.resources!), flags.resources === "-" ? "stdin" : flags.resources!);
    const skipped = ignoredResourceFields(resources);
    // A debug line, not a warning: containerd sends the whole LinuxResources (devices too) on every update.
    if (skipped.length) debug(g, `update: not updated (as runc): ${skipped.map((f) => "resources." + f).join(", ")}`);
  } else {
    if (flags.cpuShares && flags.cpuShare && flags.cpuShares !== flags.cpuShare) {
      throw new BerthError("--cpu-share and --cpu-shares give different values", { phase: "args" });
    }
    resources = resourcesFromFlags({ ...flags, cpuShare: flags.cpuShare ?? flags.cpuShares });
  }
  for (const w of updateContainer(g.root, id, resources, { fromFlags })) stderr(`berth: warning: update: ${w}\n`);
  return 0;
}

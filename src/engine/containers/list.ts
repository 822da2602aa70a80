// GET /containers/json: `docker ps` with -a, -n, -l, -s and every --filter the CLI sends.
import { badRequest, notFound } from "../errors.ts";
import { networkMode, mountsOf } from "./inspect.ts";
import type { ContainerRecord } from "./store.ts";

const STATUSES = new Set(["created", "restarting", "running", "removing", "paused", "exited", "dead"]);
const HEALTH = new Set(["starting", "healthy", "unhealthy", "none"]);
const KNOWN = new Set(["id", "name", "label", "status", "exited", "ancestor", "before", "since", "network", "volume", "health", "is-task", "isolation", "publish", "expose"]);

export interface ListQuery {
  all: boolean;
  limit?: number;
  filters: Map<string, string[]>;
  find: (ref: string) => ContainerRecord | undefined;
  /** does image ref (name, id or prefix) name the container's image? */
  isAncestor: (c: ContainerRecord, ref: string) => boolean;
}

function labelMatch(labels: Record<string, string>, want: string): boolean {
  const i = want.indexOf("=");
  if (i < 0) return want in labels;
  return labels[want.slice(0, i)] === want.slice(i + 1);
}

export function filterContainers(list: ContainerRecord[], q: ListQuery): ContainerRecord[] {
  const f = q.filters;
  for (const k of f.keys()) if (!KNOWN.has(k)) throw badRequest(`invalid filter '${k}'`);
  for (const s of f.get("status") ?? []) {
    if (!STATUSES.has(s)) throw badRequest(`invalid filter 'status=${s}'`);
  }
  for (const e of f.get("exited") ?? []) if (!/^-?\d+$/.test(e)) throw badRequest(`invalid filter 'exited=${e}'`);
  for (const h of f.get("health") ?? []) if (!HEALTH.has(h)) throw badRequest(`Unrecognised filter value for health: ${h}`);
  for (const k of ["publish", "expose"]) {
    for (const p of f.get(k) ?? []) if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/.test(p)) throw badRequest(`invalid filter '${k}=${p}'`);
  }
  // dockerd's name filter is a regular expression, tried on the name with and without its "/";
  // one that does not compile matches nothing.
  const nameRes = (f.get("name") ?? []).map((v) => { try { return new RegExp(v); } catch { return undefined; } });
  const beforeRef = f.get("before")?.[0];
  const sinceRef = f.get("since")?.[0];
  const resolveRef = (r: string) => {
    const c = q.find(r);
    if (!c) throw notFound(`no such container ${r}`); // (dockerd's words here)
    return c;
  };
  const before = beforeRef ? resolveRef(beforeRef) : undefined;
  const since = sinceRef ? resolveRef(sinceRef) : undefined;
  // Filters that look at stopped containers show them without -a, as dockerd does.
  const all = q.all || f.has("status") || f.has("exited") || q.limit !== undefined;
  let out = list.filter((c) => {
    if (!all && !c.state.Running) return false;
    const any = (key: string, test: (v: string) => boolean) => !f.has(key) || f.get(key)!.some(test);
    return (
      any("id", (v) => c.id.startsWith(v)) &&
      (!f.has("name") || nameRes.some((re) => !!re && (re.test(`/${c.name}`) || re.test(c.name)))) &&
      (f.get("label") ?? []).every((v) => labelMatch(c.config.Labels ?? {}, v)) &&
      any("status", (v) => c.state.Status === v) &&
      any("exited", (v) => !c.state.Running && c.state.Status === "exited" && c.state.ExitCode === Number(v)) &&
      any("ancestor", (v) => q.isAncestor(c, v)) &&
      any("network", (v) => networkMode(c) === v) &&
      any("volume", (v) => mountsOf(c).some((m) => m.Source === v || m.Destination === v)) &&
      any("health", (v) => v === (c.state.Health?.Status ?? "none")) &&
      any("is-task", (v) => v === "false") &&
      // ports a container publishes or exposes on a network: none without bridge networks
      !f.has("publish") && !f.has("expose") &&
      (!before || c.created < before.created) &&
      (!since || c.created > since.created)
    );
  });
  if (q.limit !== undefined && q.limit > 0) out = out.slice(0, q.limit);
  return out;
}

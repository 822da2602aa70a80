// The create body: docker's Config fields at the top level, plus HostConfig and NetworkingConfig.
// Types are checked here (a wrong type is a 400 naming the field, never a crash later); the
// meaning of HostConfig is checked by the spec builder. Unknown fields are ignored, as dockerd
// does, since newer CLIs send fields older daemons never heard of.
import { badRequest } from "../errors.ts";
import type { Json } from "./store.ts";

type Kind = "string" | "boolean" | "number" | "strings" | "strslice" | "object" | "stringmap";

const CONFIG_FIELDS: Record<string, Kind> = {
  Hostname: "string", Domainname: "string", User: "string", AttachStdin: "boolean", AttachStdout: "boolean",
  AttachStderr: "boolean", Tty: "boolean", OpenStdin: "boolean", StdinOnce: "boolean", Env: "strings",
  Cmd: "strslice", Entrypoint: "strslice", Image: "string", Volumes: "object", WorkingDir: "string",
  Labels: "stringmap", StopSignal: "string", StopTimeout: "number", ExposedPorts: "object", NetworkDisabled: "boolean",
  Shell: "strings", OnBuild: "strings", ArgsEscaped: "boolean", MacAddress: "string", Healthcheck: "object",
};

function check(where: string, v: unknown, kind: Kind): unknown {
  if (v === null || v === undefined) return undefined;
  const bad = (want: string) => badRequest(`invalid type for ${where}: want ${want}, got ${Array.isArray(v) ? "array" : typeof v}`);
  switch (kind) {
    case "string":
      if (typeof v !== "string") throw bad("a string");
      return v;
    case "boolean":
      if (typeof v !== "boolean") throw bad("a boolean");
      return v;
    case "number":
      if (typeof v !== "number" || !Number.isFinite(v)) throw bad("a number");
      return v;
    case "strings":
      if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) throw bad("an array of strings");
      return v;
    case "strslice": // a string or a list of strings (Go's strslice)
      if (typeof v === "string") return [v];
      if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) throw bad("a string or an array of strings");
      return v;
    case "object":
      if (typeof v !== "object" || Array.isArray(v)) throw bad("an object");
      return v;
    case "stringmap":
      if (typeof v !== "object" || Array.isArray(v) || Object.values(v as object).some((s) => typeof s !== "string")) throw bad("an object of strings");
      return v;
  }
}

export function validateCreate(body: Json, _version: string): { config: Json; hostConfig: Json; networking: Json } {
  const config: Json = {};
  for (const [k, kind] of Object.entries(CONFIG_FIELDS)) {
    const v = check(k, body[k], kind);
    if (v !== undefined) config[k] = v;
  }
  const hostConfig = (check("HostConfig", body.HostConfig, "object") ?? {}) as Json;
  const networking = (check("NetworkingConfig", body.NetworkingConfig, "object") ?? {}) as Json;
  for (const e of (config.Env ?? []) as string[]) {
    if (e === "" || e.startsWith("=")) throw badRequest(`invalid environment variable: ${JSON.stringify(e)}`);
  }
  return { config, hostConfig, networking };
}

/** What docker stores as the container's Config: the request, with the image's defaults filled in. */
export function mergeImageConfig(config: Json, image: Json): Json {
  const out: Json = { ...config };
  const env = new Map<string, string>();
  for (const e of [...((image.Env ?? []) as string[]), ...((config.Env ?? []) as string[])]) {
    const i = e.indexOf("=");
    env.set(i < 0 ? e : e.slice(0, i), e);
  }
  out.Env = [...env.values()];
  // An Entrypoint given without a Cmd drops the image's Cmd (docker's rule).
  if (config.Entrypoint === undefined) {
    out.Entrypoint = image.Entrypoint ?? null;
    out.Cmd = config.Cmd ?? image.Cmd ?? null;
  } else {
    out.Cmd = config.Cmd ?? null;
    if (config.Entrypoint.length === 1 && config.Entrypoint[0] === "") out.Entrypoint = null;
  }
  out.WorkingDir = config.WorkingDir || image.WorkingDir || "";
  out.User = config.User || image.User || "";
  out.Labels = { ...(image.Labels ?? {}), ...(config.Labels ?? {}) };
  out.Volumes = config.Volumes ?? image.Volumes ?? null;
  out.ExposedPorts = config.ExposedPorts ?? image.ExposedPorts;
  if (!out.StopSignal && image.StopSignal) out.StopSignal = image.StopSignal;
  for (const k of ["Hostname", "Domainname"]) out[k] = config[k] ?? "";
  for (const k of ["AttachStdin", "AttachStdout", "AttachStderr", "Tty", "OpenStdin", "StdinOnce"]) out[k] = !!config[k];
  if (!out.Cmd?.length && !out.Entrypoint?.length) throw badRequest("No command specified");
  return out;
}

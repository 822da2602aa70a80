// The create body: docker's Config fields at the top level, plus HostConfig and NetworkingConfig.
// Types are checked here (a wrong type is a 400 naming the field, never a crash later); the
// meaning of HostConfig is checked by the spec builder. Unknown fields are ignored, as dockerd
// does, since newer CLIs send fields older daemons never heard of.
import { badRequest } from "../errors.ts";
import type { Json } from "./store.ts";
import { checkConfig, checkHostConfig } from "./spec/fields.ts";
import { mergeHealthcheck } from "./health.ts";

// The Config fields docker keeps (and shows in inspect); anything else in the body is ignored.
const CONFIG_KEYS = [
  "Hostname", "Domainname", "User", "AttachStdin", "AttachStdout", "AttachStderr", "Tty", "OpenStdin", "StdinOnce",
  "Env", "Cmd", "Entrypoint", "Image", "Volumes", "WorkingDir", "Labels", "StopSignal", "StopTimeout", "ExposedPorts",
  "NetworkDisabled", "Shell", "OnBuild", "ArgsEscaped", "MacAddress", "Healthcheck",
];

function want(ok: boolean, where: string, what: string): void {
  if (!ok) throw badRequest(`invalid type for ${where}: want ${what}`);
}

export function validateCreate(body: Json, _version: string): { config: Json; hostConfig: Json; networking: Json } {
  checkConfig(body, "Config");
  const hostConfig = checkHostConfig(body.HostConfig);
  const config: Json = {};
  for (const k of CONFIG_KEYS) if (body[k] !== undefined && body[k] !== null) config[k] = body[k];
  // Go's strslice: a lone string is a one-element list.
  for (const k of ["Cmd", "Entrypoint"]) if (typeof config[k] === "string") config[k] = [config[k]];
  want(config.Image === undefined || typeof config.Image === "string", "Config.Image", "a string");
  for (const k of ["AttachStdin", "AttachStdout", "AttachStderr", "StdinOnce"]) want(config[k] === undefined || typeof config[k] === "boolean", `Config.${k}`, "a boolean");
  want(config.StopTimeout === undefined || Number.isInteger(config.StopTimeout), "Config.StopTimeout", "an integer");
  for (const k of ["Labels", "Volumes", "ExposedPorts"]) want(config[k] === undefined || (typeof config[k] === "object" && !Array.isArray(config[k])), `Config.${k}`, "an object");
  want(config.Labels === undefined || Object.values(config.Labels).every((v) => typeof v === "string"), "Config.Labels", "an object of strings");
  const networking = body.NetworkingConfig && typeof body.NetworkingConfig === "object" ? body.NetworkingConfig : {};
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
  const health = mergeHealthcheck(config, image);
  if (health) out.Healthcheck = health;
  for (const k of ["Hostname", "Domainname"]) out[k] = config[k] ?? "";
  for (const k of ["AttachStdin", "AttachStdout", "AttachStderr", "Tty", "OpenStdin", "StdinOnce"]) out[k] = !!config[k];
  if (!out.Cmd?.length && !out.Entrypoint?.length) throw badRequest("No command specified");
  return out;
}

// A container's log settings: which drivers berthd has, whether `docker logs` can read the
// log, and the rotation limits the monitor applies (--log-opt, else daemon.json's log-opts).
import { badRequest } from "../errors.ts";
import { parseSize } from "../daemon/config.ts";
import type { ContainerRecord, Json } from "./store.ts";

// json-file's format serves "local" too: docker logs reads both the same way.
const LOG_DRIVERS = ["json-file", "local", "none"];
const DEFAULT_LOG_SIZE = "10m";
const DEFAULT_LOG_FILES = "3";

/** create's check of HostConfig.LogConfig.Type, with dockerd's words for an unknown driver. */
export function checkLogDriver(hc: Json): void {
  const driver = hc.LogConfig?.Type || "";
  if (driver && !LOG_DRIVERS.includes(driver)) {
    throw badRequest(`logger: no log driver named '${driver}' is registered (berthd has ${LOG_DRIVERS.join(", ")})`);
  }
}

/** Does the container keep a log (`docker logs`)? Not with --log-driver none. */
export function logsRead(c: ContainerRecord): boolean {
  return c.hostConfig.LogConfig?.Type !== "none";
}

export function logLimits(c: ContainerRecord, daemonOpts: Record<string, string>): { size: number; files: number } {
  const lc = (c.hostConfig.LogConfig?.Config ?? {}) as Record<string, string>;
  const size = lc["max-size"] ?? daemonOpts["max-size"] ?? DEFAULT_LOG_SIZE;
  const files = lc["max-file"] ?? daemonOpts["max-file"] ?? DEFAULT_LOG_FILES;
  return { size: size === "-1" ? 0 : parseSize(size, "log-opt max-size"), files: Number(files) || 1 };
}

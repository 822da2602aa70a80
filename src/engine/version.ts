// The engine's version, as /version and the Server header report it.
export const ENGINE_VERSION = "0.2.0";
/** Go's fields in /version: berthd is not Go; the CLI prints them, so say what runs instead. */
export const RUNTIME_NAME = `bun ${typeof Bun !== "undefined" ? Bun.version : "?"}`;

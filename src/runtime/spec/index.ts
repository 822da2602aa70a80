// The OCI runtime configuration (config.json): types, the starter spec, loading and validation.

export type * from "./types.ts";
export * from "./constants.ts";
export { defaultSpec, rootlessSpec, DEFAULT_OCI_VERSION, type RootlessIds } from "./defaults.ts";
export { formatSpec } from "./format.ts";
export { parseJson, findJsonSyntaxError, lineColumn, type JsonSyntaxError } from "./json.ts";
export { loadSpec, printWarning, CONFIG_FILENAME, type LoadOptions } from "./load.ts";
export { validateSpec, describeValue, joinPath, type ValidateOptions } from "./validate.ts";

import type { OpName } from "./ops.ts";

export type FieldValue = number | bigint | string | Uint8Array;

/** One thing the executor will do. Plain data: printable, comparable in tests, encodable. */
export interface Step {
  op: OpName;
  args: Record<string, FieldValue>;
  /** The config.json field this step comes from, named in errors ("mounts[2]"). */
  field?: string;
  /** A short human description for --dry-run and error messages. */
  text: string;
}

export interface Plan {
  steps: Step[];
  /** Facts shown by --dry-run that are not steps (cgroup, warnings, seccomp summary). */
  notes: string[];
}

// OCI hooks run by berth itself, in the runtime's namespaces: prestart, createRuntime, poststart,
// poststop. (createContainer and startContainer run inside the container: the executor runs
// those.) Each hook gets the container's state JSON on stdin.
import { existsSync } from "node:fs";
import { BerthError, errnoOf } from "../errors.ts";
import type { Hook } from "../spec/types.ts";

export interface OciState {
  ociVersion: string;
  id: string;
  status: string;
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
}

export type HookKind = "prestart" | "createRuntime" | "createContainer" | "startContainer" | "poststart" | "poststop";

// setTimeout takes a signed 32-bit millisecond count; a longer delay fires at once. A hook
// timeout beyond ~24.8 days is as good as none, so it is clamped rather than refused.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Runs the hooks of one kind in order. For poststart and poststop the spec says a failure is
 * logged and the remaining hooks still run: pass `onFailure` to get each failure (as a
 * BerthError) and go on; without it those kinds still run all their hooks and then throw the
 * first failure. Every other kind stops at the first failure and throws it.
 */
export async function runHooks(kind: HookKind, hooks: Hook[] | undefined, state: OciState, onFailure?: (e: unknown) => void): Promise<void> {
  const keepGoing = kind === "poststart" || kind === "poststop";
  let first: unknown;
  for (const [i, h] of (hooks ?? []).entries()) {
    try {
      await runHook(kind, h, `hooks.${kind}[${i}]`, state);
    } catch (e) {
      if (!keepGoing) throw e;
      if (onFailure) onFailure(e);
      else first ??= e;
    }
  }
  if (first !== undefined) throw first;
}

async function runHook(kind: HookKind, h: Hook, field: string, state: OciState): Promise<void> {
  const argv = h.args?.length ? h.args : [h.path];
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    // runc runs these from the bundle (it chdirs there): a relative path is the bundle's.
    proc = Bun.spawn({
      cmd: [h.path.startsWith("/") ? h.path : `${state.bundle.replace(/\/+$/, "")}/${h.path}`, ...argv.slice(1)],
      // (a bundle removed before delete's poststop hooks must not stop them from running)
      cwd: existsSync(state.bundle) ? state.bundle : "/",
      argv0: argv[0],
      env: Object.fromEntries((h.env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)])),
      stdin: Buffer.from(JSON.stringify(state)),
      stdout: "inherit",
      stderr: "inherit",
    } as Parameters<typeof Bun.spawn>[0]);
  } catch (e) {
    throw new BerthError(`${kind} hook ${h.path} could not be run: ${(e as Error).message}`, { phase: "hooks", field, errno: errnoOf(e) });
  }
  let timedOut = false;
  const timer = h.timeout ? setTimeout(() => { timedOut = true; proc.kill(9); }, Math.min(h.timeout * 1000, MAX_TIMER_MS)) : undefined;
  const code = await proc.exited;
  if (timer) clearTimeout(timer);
  if (timedOut) throw new BerthError(`${kind} hook ${h.path} timed out after ${h.timeout}s and was killed`, { phase: "hooks", field });
  if (code !== 0) {
    const why = proc.signalCode ? `was killed by ${proc.signalCode}` : `exited with status ${code}`;
    throw new BerthError(`${kind} hook ${h.path} ${why}`, { phase: "hooks", field });
  }
}

// The container's network namespace made before the clone: the plan's netnsAhead step, which
// stage 0 performs while berth makes the cgroups (awaitGo). Only for a plan that asks for a new
// network namespace and no user namespace (which must own it); any other plan (the host's
// network, a namespace to join, a new user namespace) gets what it asks for, as before.
import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import { runContainer } from "../../src/runtime/container/run.ts";
import { berth, CAN_RUN, leftoverState, makeBundle, STATE_ROOT, uniqueId } from "../helpers/bundle.ts";
import type { Spec } from "../../src/runtime/spec/types.ts";

afterAll(() => expect(leftoverState()).toEqual([]));

// A wrapper that only execs what follows its options ("--keep-fd 3 --"): the executor itself.
const WRAP = ["/bin/sh", "-c", 'shift 3; exec "$@"', "wrap"];
const nsOf = (pid: number | "self") => fs.statSync(`/proc/${pid}/ns/net`).ino;
const silent = { out: () => {}, err: () => {}, warn: () => {} } as never;

/** Starts `sleep 30` detached through the wrapper; returns the init's pid. */
async function start(edit: (s: Spec) => void): Promise<{ id: string; pid: number; cleanup: () => void }> {
  const b = makeBundle(["sleep", "30"], edit);
  const id = uniqueId("netns");
  await runContainer({ id, bundle: b.dir, spec: b.spec, root: STATE_ROOT, detach: true, wrap: WRAP, sinks: silent });
  const pid = JSON.parse(berth(["state", id]).stdout).pid as number;
  return {
    id, pid,
    cleanup: () => {
      berth(["delete", "--force", id]);
      b.cleanup();
    },
  };
}

const withoutNetNs = (s: Spec) => {
  s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== "network");
};

describe.skipIf(!CAN_RUN)("a network namespace made ahead of the clone (netnsAhead)", () => {
  test("two containers with a new network namespace each get their own, with lo up", async () => {
    const a = await start(() => {});
    const b = await start(() => {});
    try {
      expect(nsOf(a.pid)).not.toBe(nsOf("self"));
      expect(nsOf(a.pid)).not.toBe(nsOf(b.pid));
      // the same interfaces in both: lo only, and up (IFF_UP): the init brings it up either way
      const devs = (pid: number) => fs.readdirSync(`/proc/${pid}/root/sys/class/net`).sort();
      const loUp = (pid: number) => (Number(fs.readFileSync(`/proc/${pid}/root/sys/class/net/lo/flags`, "utf8")) & 1) === 1;
      expect(devs(a.pid)).toEqual(["lo"]);
      expect(devs(b.pid)).toEqual(["lo"]);
      expect(loUp(a.pid)).toBe(true);
      expect(loUp(b.pid)).toBe(true);
    } finally {
      a.cleanup();
      b.cleanup();
    }
  });

  test("a plan without one (the host's network) runs in the host's namespace", async () => {
    const c = await start(withoutNetNs);
    try {
      expect(nsOf(c.pid)).toBe(nsOf("self"));
    } finally {
      c.cleanup();
    }
  });

  test("a plan that joins a network namespace by path joins that one", async () => {
    const other = await start(() => {});
    const c = await start((s) => {
      s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === "network" ? { type: "network", path: `/proc/${other.pid}/ns/net` } : n));
    });
    try {
      expect(nsOf(c.pid)).toBe(nsOf(other.pid));
    } finally {
      c.cleanup();
      other.cleanup();
    }
  });

  // Made ahead, the namespace would belong to the host's user namespace, and the container's
  // root could not configure it: the init's bringing lo up would fail with EPERM, and the start.
  test("a plan with a user namespace gets a network namespace that user namespace owns", async () => {
    const c = await start((s) => {
      s.linux!.namespaces!.push({ type: "user" });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    });
    try {
      expect(nsOf(c.pid)).not.toBe(nsOf("self"));
      expect(fs.readlinkSync(`/proc/${c.pid}/ns/user`)).not.toBe(fs.readlinkSync("/proc/self/ns/user"));
    } finally {
      c.cleanup();
    }
  });
});

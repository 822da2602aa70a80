// Settings that would land in the caller's own namespaces are refused up front (issue 6,
// part 1), and (uid_t)-1 is not a user.
import { describe, expect, test } from "bun:test";
import { checkHostNamespaces, isCallersNamespace } from "../../src/runtime/spec/hostns";
import { validateSpec } from "../../src/runtime/spec/validate";
import { defaultSpec } from "../../src/runtime/spec/defaults";
import { BerthError } from "../../src/runtime/errors";
import type { Spec } from "../../src/runtime/spec/types";

function err(fn: () => unknown): BerthError {
  try {
    fn();
  } catch (e) {
    if (e instanceof BerthError) return e;
    throw e;
  }
  throw new Error("expected a BerthError");
}

const HOST = "/host/ns";
const isHost = (_t: string, p: string) => p === HOST;
function spec(edit: (s: Spec) => void): Spec {
  const s = defaultSpec();
  edit(s);
  return s;
}
const ns = (s: Spec, type: string, path?: string) => {
  s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== type);
  if (path !== null) s.linux!.namespaces!.push(path === undefined ? { type } as never : { type, path } as never);
};

describe("sysctls and names in the caller's namespaces", () => {
  test("net.* in the host's network namespace (joined by path) is refused, naming the field and the namespace", () => {
    const s = spec((s) => {
      ns(s, "network", HOST);
      s.linux!.sysctl = { "net.ipv4.ip_forward": "1" };
    });
    const e = err(() => checkHostNamespaces(s, isHost));
    expect(e.field).toBe('linux.sysctl["net.ipv4.ip_forward"]');
    expect(e.message).toContain("linux.namespaces[");
  });
  test("net.* in another network namespace joined by path, or an own one, is allowed", () => {
    for (const path of ["/run/netns/other", undefined]) {
      const s = spec((s) => {
        ns(s, "network", path);
        s.linux!.sysctl = { "net.ipv4.ip_forward": "1" };
      });
      expect(() => checkHostNamespaces(s, isHost)).not.toThrow();
    }
  });
  test("ipc sysctls need an IPC namespace that is not the host's", () => {
    for (const path of [HOST, null]) {
      const s = spec((s) => {
        ns(s, "ipc", path as string | undefined);
        if (path === null) s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== "ipc");
        s.linux!.sysctl = { "kernel.shm_rmid_forced": "1" };
      });
      expect(err(() => checkHostNamespaces(s, isHost)).field).toBe('linux.sysctl["kernel.shm_rmid_forced"]');
    }
  });
  test("kernel.hostname is refused (it conflicts with the hostname field); kernel.domainname needs a non-host UTS namespace", () => {
    expect(err(() => checkHostNamespaces(spec((s) => (s.linux!.sysctl = { "kernel.hostname": "x" })), isHost)).message).toContain('"hostname"');
    const d = spec((s) => {
      ns(s, "uts", HOST);
      s.linux!.sysctl = { "kernel.domainname": "x" };
    });
    expect(err(() => checkHostNamespaces(d, isHost)).field).toBe('linux.sysctl["kernel.domainname"]');
  });
  test("hostname and domainname in the host's UTS namespace are refused", () => {
    for (const key of ["hostname", "domainname"] as const) {
      const s = spec((s) => {
        ns(s, "uts", HOST);
        delete s.hostname;
        s[key] = "box";
      });
      expect(err(() => checkHostNamespaces(s, isHost)).field).toBe(key);
      ns(s, "uts", "/run/utsns/other");
      expect(() => checkHostNamespaces(s, isHost)).not.toThrow();
    }
  });
  test("the real comparison: our own /proc/self/ns/net is the caller's, a missing path is not", () => {
    expect(isCallersNamespace("network", `/proc/${process.pid}/ns/net`)).toBe(true);
    expect(isCallersNamespace("uts", "/nonexistent/ns")).toBe(false);
  });
});

describe("(uid_t)-1", () => {
  for (const [field, edit] of [
    ["process.user.uid", (s: Spec) => (s.process!.user.uid = 4294967295)],
    ["process.user.gid", (s: Spec) => (s.process!.user.gid = 4294967295)],
    ["process.user.additionalGids[1]", (s: Spec) => (s.process!.user.additionalGids = [5, 4294967295])],
  ] as const) {
    test(`${field} = 4294967295 is refused`, () => {
      const e = err(() => validateSpec(spec(edit)));
      expect(e.field).toBe(field);
      expect(e.message).toContain("root");
    });
  }
  test("4294967294 is a valid id", () => {
    expect(() => validateSpec(spec((s) => (s.process!.user.uid = 4294967294)))).not.toThrow();
  });
});

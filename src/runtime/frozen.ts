// Values computed once and handed to every caller (the host's cgroup layout, Docker's default
// seccomp profile per capability set) are frozen, all the way down: a caller that tried to
// change one would change it for everybody, and a frozen one throws instead.
export function deepFreeze<T>(v: T): T {
  if (v && typeof v === "object" && !Object.isFrozen(v)) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

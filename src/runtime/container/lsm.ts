// AppArmor and SELinux: berth applies neither, so a profile or label the config asks for would
// run the container unconfined without a word. That is refused instead, before anything is
// created, with the reason (the host has no such LSM, or berth cannot apply it).
import fs from "node:fs";
import { configError, quoteValue } from "../errors.ts";
import type { Spec } from "../spec/types.ts";

export interface LsmHost {
  apparmor: boolean;
  selinux: boolean;
}

/** Which LSMs the host has enabled (the files runc and libselinux look at). */
export function hostLsm(): LsmHost {
  let apparmor = false;
  try {
    apparmor = fs.readFileSync("/sys/module/apparmor/parameters/enabled", "utf8").trim() === "Y";
  } catch { /* module absent: not enabled */ }
  // selinuxfs mounted at /sys/fs/selinux is how userspace knows SELinux is on.
  const selinux = fs.existsSync("/sys/fs/selinux/enforce");
  return { apparmor, selinux };
}

/** Refuses a requested AppArmor profile or SELinux label berth would silently not apply. */
export function checkLsm(proc: Spec["process"] | undefined, linux: Spec["linux"] | undefined, prefix = "process", hostGiven?: LsmHost): void {
  // The host is only looked at when something is asked for (most configs ask for nothing).
  let known = hostGiven;
  const lsm = () => (known ??= hostLsm());
  const profile = proc?.apparmorProfile;
  if (profile) {
    const field = `${prefix}.apparmorProfile`;
    if (!lsm().apparmor) {
      throw configError(field, `AppArmor profile ${quoteValue(profile)} was requested, but AppArmor is not enabled on this host (/sys/module/apparmor/parameters/enabled is not "Y")`,
        "remove the field to run without AppArmor confinement, or run on a host with AppArmor");
    }
    throw configError(field, `AppArmor profile ${quoteValue(profile)} was requested, but berth cannot apply AppArmor profiles yet`,
      "remove the field to run without AppArmor confinement");
  }
  const labels: Array<[string, string | undefined]> = [[`${prefix}.selinuxLabel`, proc?.selinuxLabel], ["linux.mountLabel", linux?.mountLabel]];
  for (const [field, label] of labels) {
    if (!label) continue;
    if (!lsm().selinux) {
      throw configError(field, `SELinux label ${quoteValue(label)} was requested, but SELinux is not enabled on this host (no selinuxfs at /sys/fs/selinux)`,
        "remove the field to run without an SELinux label, or run on a host with SELinux");
    }
    throw configError(field, `SELinux label ${quoteValue(label)} was requested, but berth cannot apply SELinux labels yet`,
      "remove the field to run without an SELinux label");
  }
}

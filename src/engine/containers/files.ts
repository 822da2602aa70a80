// The files docker writes for each container and bind-mounts over the image's: /etc/hostname,
// /etc/hosts and /etc/resolv.conf, under <data-root>/containers/<id>/.
import fs from "node:fs";
import type { ContainerRecord } from "./store.ts";

export function hostnameOf(c: ContainerRecord): string {
  return c.config.Hostname || c.id.slice(0, 12);
}

export function hostsFile(c: ContainerRecord): string {
  const lines = [
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "ff00::0\tip6-mcastprefix",
    "ff02::1\tip6-allnodes",
    "ff02::2\tip6-allrouters",
  ];
  for (const h of (c.hostConfig.ExtraHosts ?? []) as string[]) {
    const i = h.indexOf(":");
    if (i > 0) lines.push(`${h.slice(i + 1)}\t${h.slice(0, i)}`);
  }
  return lines.join("\n") + "\n";
}

/** The host's resolv.conf, without loopback nameservers (unreachable from a container's netns). */
export function resolvConf(c: ContainerRecord, host = "/etc/resolv.conf"): string {
  let text = "";
  try {
    text = fs.readFileSync(host, "utf8");
  } catch { /* none */ }
  if (c.hostConfig.NetworkMode === "host") return text;
  const kept = text.split("\n").filter((l) => !/^\s*nameserver\s+(127\.|::1\b)/.test(l));
  const dns = (c.hostConfig.Dns ?? []) as string[];
  const out = dns.length ? [...kept.filter((l) => !/^\s*nameserver\s/.test(l)), ...dns.map((d) => `nameserver ${d}`)] : kept;
  return out.join("\n").replace(/\n*$/, "\n");
}

export function writeContainerFiles(dir: string, c: ContainerRecord): void {
  fs.writeFileSync(`${dir}/hostname`, hostnameOf(c) + "\n");
  fs.writeFileSync(`${dir}/hosts`, hostsFile(c));
  fs.writeFileSync(`${dir}/resolv.conf`, resolvConf(c));
}

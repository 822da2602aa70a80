// The three files docker writes per container and bind-mounts over the image's: /etc/hostname,
// /etc/hosts and /etc/resolv.conf. Pure text in, text out; the lead writes them.
import { badRequest } from "../../errors.ts";
import fs from "node:fs";

const LOCALHOST = [
  "127.0.0.1\tlocalhost",
  "::1\tlocalhost ip6-localhost ip6-loopback",
  "fe00::0\tip6-localnet",
  "ff00::0\tip6-mcastprefix",
  "ff02::1\tip6-allnodes",
  "ff02::2\tip6-allrouters",
];

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const isIp = (s: string) => IPV4.test(s) || (/^[0-9a-fA-F:.]+$/.test(s) && s.includes(":"));

/** ExtraHosts entries ("name:ip", or "name=ip" as newer CLIs send) as [name, ip]; 400 on a bad one. */
export function parseExtraHosts(extra: readonly string[] | null | undefined): [string, string][] {
  return (extra ?? []).map((h) => {
    const sep = h.includes("=") ? h.indexOf("=") : h.indexOf(":");
    const name = sep > 0 ? h.slice(0, sep) : "";
    let ip = sep > 0 ? h.slice(sep + 1) : "";
    if (ip.startsWith("[") && ip.endsWith("]")) ip = ip.slice(1, -1);
    if (!name || !isIp(ip)) throw badRequest(`invalid IP address in add-host: "${ip || h}"`);
    return [name, ip];
  });
}

export interface HostsInput {
  /** host network: the host's own /etc/hosts content is used as is, as docker does */
  hostHosts?: string;
  networkMode?: string;
  extraHosts?: readonly string[] | null;
  /** the container's address and names: docker adds "<ip>\t<hostname>" only when it has an IP */
  address?: { ip: string; names: string[] };
}

export function hostsFile(o: HostsInput): string {
  if (o.networkMode === "host") return o.hostHosts ?? LOCALHOST.join("\n") + "\n";
  const lines = [...LOCALHOST];
  for (const [name, ip] of parseExtraHosts(o.extraHosts)) lines.push(`${ip}\t${name}`);
  if (o.address) lines.push(`${o.address.ip}\t${o.address.names.join(" ")}`);
  return lines.join("\n") + "\n";
}

/** /etc/hostname: the host name and a newline. */
export function hostnameFile(hostname: string): string {
  return `${hostname}\n`;
}

export interface ResolvInput {
  /** the host's /etc/resolv.conf */
  host: string;
  networkMode?: string;
  dns?: readonly string[] | null;
  dnsSearch?: readonly string[] | null;
  dnsOptions?: readonly string[] | null;
}

const LOOPBACK_NS = /^\s*nameserver\s+(127\.\S*|::1|0:0:0:0:0:0:0:1)\s*$/;
const DEFAULT_NS = ["nameserver 8.8.8.8", "nameserver 8.8.4.4"];

/**
 * resolv.conf for a container: the host's, minus loopback nameservers (unreachable from another
 * network namespace; docker drops them and falls back to Google's when none is left), with
 * --dns/--dns-search/--dns-option replacing the host's lines of that kind. Host network: the
 * host's file as is, unless overridden.
 */
export function resolvConf(o: ResolvInput): string {
  const lines = o.host.split("\n").filter((l, i, a) => !(i === a.length - 1 && l === ""));
  const own = o.networkMode !== "host";
  let out = own ? lines.filter((l) => !LOOPBACK_NS.test(l)) : [...lines];
  const replace = (re: RegExp, repl: string[], first = false) => {
    const at = out.findIndex((l) => re.test(l));
    out = out.filter((l) => !re.test(l));
    out.splice(at < 0 ? (first ? 0 : out.length) : at, 0, ...repl);
  };
  if (o.dns?.length) replace(/^\s*nameserver\s/, o.dns.map((d) => `nameserver ${d}`));
  // a new search line goes first, where dockerd writes it
  if (o.dnsSearch?.length) replace(/^\s*search\s/, [`search ${o.dnsSearch.join(" ")}`], true);
  if (o.dnsOptions?.length) replace(/^\s*options\s/, [`options ${o.dnsOptions.join(" ")}`]);
  if (own && !out.some((l) => /^\s*nameserver\s/.test(l))) out.push(...DEFAULT_NS);
  return out.join("\n") + "\n";
}

export interface ContainerFilesInput {
  hostConfig: Record<string, any>;
  /** SpecOutput.hostname */
  hostname: string;
  /** the host's /etc/hosts and /etc/resolv.conf contents */
  hostHosts: string;
  hostResolvConf: string;
}

/** The three files' contents for one container, from its HostConfig (what the lead writes). */
export function containerFiles(o: ContainerFilesInput): { hosts: string; hostname: string; resolvConf: string } {
  const hc = o.hostConfig;
  const networkMode = hc.NetworkMode === "host" ? "host" : "none";
  return {
    hosts: hostsFile({ networkMode, hostHosts: o.hostHosts, extraHosts: hc.ExtraHosts }),
    hostname: hostnameFile(o.hostname),
    resolvConf: resolvConf({ host: o.hostResolvConf, networkMode, dns: hc.Dns, dnsSearch: hc.DnsSearch, dnsOptions: hc.DnsOptions }),
  };
}

/** Writes a new container's hostname, hosts and resolv.conf into `dir`, from the host's files. */
export function writeContainerFiles(dir: string, hostConfig: Record<string, any>, hostname: string): void {
  const read = (p: string) => {
    try {
      return fs.readFileSync(p, "utf8");
    } catch {
      return "";
    }
  };
  const files = containerFiles({ hostConfig, hostname, hostHosts: read("/etc/hosts"), hostResolvConf: read("/etc/resolv.conf") });
  fs.writeFileSync(`${dir}/hostname`, files.hostname);
  fs.writeFileSync(`${dir}/hosts`, files.hosts);
  fs.writeFileSync(`${dir}/resolv.conf`, files.resolvConf);
}

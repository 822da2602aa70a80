// Image references the way docker's distribution/reference normalises them:
//   busybox → docker.io/library/busybox:latest, shown back as "busybox:latest";
//   localhost:5000/x/y:t keeps its registry; name@sha256:… is a digest reference.
import { badRequest } from "../errors.ts";

export const DEFAULT_DOMAIN = "docker.io";
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$|^\[[0-9a-fA-F:.]+\](?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
export const HEX64 = /^[a-f0-9]{64}$/;

export interface Reference {
  /** Registry host, e.g. "docker.io" or "127.0.0.1:5000". */
  domain: string;
  /** Repository path within the registry, e.g. "library/busybox". */
  path: string;
  tag?: string;
  digest?: string;
}

const invalid = (why = "") => badRequest(`invalid reference format${why ? `: ${why}` : ""}`);

/** Parses and normalises a named reference; 400 with docker's wording when it is not one. */
export function parseNamed(s: string): Reference {
  if (!s) throw invalid();
  if (HEX64.test(s)) throw badRequest(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid();
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid();
  }
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf("/");
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase()) {
      domain = first;
      path = rest.slice(slash + 1);
    }
  }
  if (domain === "index.docker.io") domain = DEFAULT_DOMAIN;
  if (!DOMAIN.test(domain)) throw invalid();
  if (path !== path.toLowerCase()) throw invalid("repository name must be lowercase");
  if (!path || !path.split("/").every((c) => COMPONENT.test(c))) throw invalid();
  if (domain === DEFAULT_DOMAIN && !path.includes("/")) path = `library/${path}`;
  if (domain.length + 1 + path.length > 255) throw invalid("repository name must not be more than 255 characters");
  return { domain, path, tag, digest };
}

/** "docker.io/library/busybox" */
export const fullName = (r: Reference) => `${r.domain}/${r.path}`;

/** Adds ":latest" when a reference has neither tag nor digest. */
export function withDefaultTag(r: Reference): Reference {
  return r.tag || r.digest ? r : { ...r, tag: "latest" };
}

/** The full string stored in the tag table: docker.io/library/busybox:latest */
export function fullString(r: Reference): string {
  return fullName(r) + (r.tag ? `:${r.tag}` : "") + (r.digest ? `@${r.digest}` : "");
}

/** The short name docker shows: "busybox", "me/app", "127.0.0.1:5000/x". */
export function familiarName(r: Reference): string {
  if (r.domain !== DEFAULT_DOMAIN) return fullName(r);
  const p = r.path;
  return p.startsWith("library/") && p.split("/").length === 2 ? p.slice(8) : p;
}

export function familiarString(r: Reference): string {
  return familiarName(r) + (r.tag ? `:${r.tag}` : "") + (r.digest ? `@${r.digest}` : "");
}

/** Familiar form of a stored full reference string. */
export const familiar = (full: string) => familiarString(parseNamed(full));

/** Matches docker's path.Match glob (no "/" across "*") against the familiar string, then name. */
/** A name may not be "sha256": "sha256:<hex>" would read as an image ID ever after (dockerd's words). */
export function refuseDigestName(r: Reference): void {
  if (familiarName(r) === "sha256") throw badRequest("refusing to create an ambiguous tag using digest algorithm as name");
}

export function familiarMatch(pattern: string, r: Reference): boolean {
  const re = globToRegExp(pattern);
  return re.test(familiarString(r)) || re.test(familiarName(r));
}

function globToRegExp(g: string): RegExp {
  let s = "";
  for (let i = 0; i < g.length; i++) {
    const c = g[i];
    if (c === "*") s += "[^/]*";
    else if (c === "?") s += "[^/]";
    else if (c === "[") {
      const end = g.indexOf("]", i + 1);
      if (end < 0) throw new SyntaxError("syntax error in pattern"); // as Go's path.Match
      let body = g.slice(i + 1, end);
      if (body.startsWith("^")) body = "!" + body.slice(1);
      s += body.startsWith("!") ? `[^${body.slice(1).replace(/\\/g, "\\\\")}]` : `[${body.replace(/\\/g, "\\\\")}]`;
      i = end;
    } else if (c === "\\" && i + 1 < g.length) s += "\\" + g[++i];
    else s += c.replace(/[.+^${}()|\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${s}$`);
}

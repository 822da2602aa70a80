// What a handler sees of one request: params, query, the negotiated API version, the body, and
// ways to answer (JSON, a chunked JSON stream, a raw stream, or the hijacked socket).
import { ApiError, badRequest } from "../errors.ts";
import type { Incoming } from "./http/incoming.ts";
import type { Reply } from "./http/reply.ts";
import type { RawConn } from "./http/raw.ts";

export const MAX_JSON_BODY = 16 << 20;

export class Context {
  readonly query: URLSearchParams;
  /** the request finished (or its client went away): streams stop */
  closed = false;

  constructor(
    readonly req: Incoming,
    /** unset when the handler has the connection (socket) */
    readonly res: Reply | undefined,
    readonly path: string,
    readonly params: Record<string, string>,
    search: string,
    /** "1.45": the version prefix of the path, or the daemon's own when none */
    readonly version: string,
    /** set for hijacked requests (upgrade): raw bytes both ways once the handler sent its 101 */
    readonly socket?: RawConn,
  ) {
    this.query = new URLSearchParams(search);
    const onClose = () => (this.closed = true);
    (res ?? socket)?.once("close", onClose);
  }

  /** API version at least v ("1.44")? */
  atLeast(v: string): boolean {
    return compareVersions(this.version, v) >= 0;
  }

  /** A boolean query flag as docker clients send them: 1/true/True, 0/false or absent. */
  flag(name: string, dflt = false): boolean {
    const v = this.query.get(name);
    if (v === null) return dflt;
    if (v === "" ) return true;
    const l = v.toLowerCase();
    if (l === "1" || l === "true") return true;
    if (l === "0" || l === "false") return false;
    throw badRequest(`invalid value for query parameter ${name}: ${JSON.stringify(v)} (want a boolean)`);
  }

  int(name: string): number | undefined {
    const v = this.query.get(name);
    if (v === null || v === "") return undefined;
    if (!/^-?\d+$/.test(v)) throw badRequest(`invalid value for query parameter ${name}: ${JSON.stringify(v)} (want an integer)`);
    return Number(v);
  }

  /** `filters={"status":{"running":true}}` (or the pre-1.22 `{"status":["running"]}`) → name → values. */
  filters(): Map<string, string[]> {
    const raw = this.query.get("filters");
    const out = new Map<string, string[]>();
    if (!raw) return out;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw badRequest(`invalid filter: ${JSON.stringify(raw.slice(0, 80))} is not JSON`);
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw badRequest("invalid filter: want a JSON object");
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
      if (Array.isArray(v)) out.set(k, v.map(String));
      else if (v && typeof v === "object") out.set(k, Object.entries(v).filter(([, on]) => on).map(([name]) => name));
      else throw badRequest(`invalid filter ${JSON.stringify(k)}: want a map of values`);
    }
    return out;
  }

  /** The whole body as bytes (chunked or not; the parser decodes the transfer coding). */
  async bytes(limit = MAX_JSON_BODY): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of this.req) {
      n += (c as Buffer).length;
      if (n > limit) throw new ApiError(413, `request body larger than ${limit} bytes`);
      chunks.push(c as Buffer);
    }
    return Buffer.concat(chunks);
  }

  /** The JSON body: an object (or the empty object for an empty body); a 400 for anything else. */
  async json<T = Record<string, unknown>>(): Promise<T> {
    const buf = await this.bytes();
    if (buf.length === 0 || /^\s*$/.test(buf.toString())) return {} as T;
    let v: unknown;
    try {
      v = JSON.parse(buf.toString("utf8"));
    } catch (e) {
      throw badRequest(`invalid JSON in request body: ${(e as Error).message}`);
    }
    if (v === null) return {} as T;
    if (typeof v !== "object" || Array.isArray(v)) throw badRequest("invalid JSON in request body: want an object");
    return v as T;
  }
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number), pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

// Routes of the Engine API: a method, a path template with {params}, a handler. Templates are
// matched segment by segment except a trailing "{name*}" style param, which is what image
// references need (/images/127.0.0.1:5000/team/app:v1/json has slashes in the name).
import type { Context } from "./context.ts";

export type Handler = (ctx: Context) => unknown | Promise<unknown>;

export interface Route {
  method: string;
  template: string;
  handler: Handler;
  /** handler takes over the connection (attach, exec start): no automatic response */
  hijack?: boolean;
  match: (path: string) => Record<string, string> | undefined;
}

// "/images/{name}/json" with name allowed to span segments: a regexp, anchored, whose params
// are greedy only when the template says so with "{name:.*}" (as moby writes them).
function compile(template: string): (path: string) => Record<string, string> | undefined {
  const names: string[] = [];
  const source = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{(\w+)(:\\\.\\\*)?\}/g, (_m, name: string, greedy?: string) => {
    names.push(name);
    return greedy ? "(.+)" : "([^/]+)";
  });
  const re = new RegExp(`^${source}$`);
  return (path) => {
    const m = re.exec(path);
    if (!m) return undefined;
    const params: Record<string, string> = {};
    names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1])));
    return params;
  };
}

export class Router {
  readonly routes: Route[] = [];

  add(method: string, template: string, handler: Handler, opts: { hijack?: boolean } = {}): this {
    this.routes.push({ method, template, handler, hijack: opts.hijack, match: compile(template) });
    return this;
  }

  get = (t: string, h: Handler) => this.add("GET", t, h);
  post = (t: string, h: Handler) => this.add("POST", t, h);
  delete = (t: string, h: Handler) => this.add("DELETE", t, h);
  head = (t: string, h: Handler) => this.add("HEAD", t, h);
  put = (t: string, h: Handler) => this.add("PUT", t, h);

  /** The route for a request, or why there is none (404 no route / 405 wrong method). */
  find(method: string, path: string): { route: Route; params: Record<string, string> } | { status: 404 | 405 } {
    let pathMatched = false;
    for (const route of this.routes) {
      const params = route.match(path);
      if (!params) continue;
      if (route.method === method || (method === "HEAD" && route.method === "GET")) return { route, params };
      pathMatched = true;
    }
    return { status: pathMatched ? 405 : 404 };
  }
}

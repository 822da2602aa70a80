// `docker events`: what happened to containers and images, as dockerd words it, kept in a small
// ring for `--since` and streamed to listeners.
import type { Json } from "../containers/store.ts";

export interface EngineEvent {
  Type: "container" | "image" | "network" | "volume" | "daemon";
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: "local";
  time: number;
  timeNano: number;
  // legacy fields (API < 1.22 clients still read them)
  status?: string;
  id?: string;
  from?: string;
}

const KEEP = 256; // as dockerd keeps

export class EventBus {
  private ring: EngineEvent[] = [];
  private subs = new Set<(e: EngineEvent) => void>();

  publish(type: EngineEvent["Type"], action: string, id: string, attributes: Record<string, string> = {}): void {
    const nowNs = BigInt(Date.now()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000));
    const e: EngineEvent = {
      Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope: "local",
      time: Number(nowNs / 1_000_000_000n), timeNano: Number(nowNs),
    };
    if (type === "container" || type === "image") {
      e.status = action;
      e.id = id;
      if (attributes.image) e.from = attributes.image;
    }
    this.ring.push(e);
    if (this.ring.length > KEEP) this.ring.splice(0, this.ring.length - KEEP);
    for (const s of this.subs) s(e);
  }

  since(t: number): EngineEvent[] {
    return this.ring.filter((e) => e.timeNano / 1e9 >= t);
  }

  subscribe(fn: (e: EngineEvent) => void): () => void {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  }

  listeners(): number {
    return this.subs.size;
  }
}

/** docker events --filter: type, event/action, container, image, label. */
export function matches(e: EngineEvent, f: Map<string, string[]>): boolean {
  const any = (k: string, test: (v: string) => boolean) => !f.has(k) || f.get(k)!.some(test);
  const attrs = e.Actor.Attributes;
  return (
    any("type", (v) => e.Type === v) &&
    any("event", (v) => e.Action === v || e.Action.startsWith(`${v}:`)) &&
    any("container", (v) => e.Type === "container" && (e.Actor.ID.startsWith(v) || attrs.name === v)) &&
    any("image", (v) => attrs.image === v || (e.Type === "image" && e.Actor.ID === v)) &&
    (f.get("label") ?? []).every((l) => {
      const i = l.indexOf("=");
      return i < 0 ? l in attrs : attrs[l.slice(0, i)] === l.slice(i + 1);
    })
  );
}

export type { Json };

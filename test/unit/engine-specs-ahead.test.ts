// SpecsAhead: a start spec built between create and start is taken by that start only while it
// is still what the start would build (the same record, soon enough), and only once.
import { describe, expect, it } from "bun:test";
import { SpecsAhead } from "../../src/engine/containers/start-ahead.ts";
import type { ContainerRecord } from "../../src/engine/containers/store.ts";

const record = (id: string): ContainerRecord =>
  ({ id, config: { Image: "busybox" }, hostConfig: {}, generation: 0 }) as unknown as ContainerRecord;
const built = () => ({ spec: { ociVersion: "1.0.2" }, warnings: ["w"] });

describe("SpecsAhead", () => {
  it("is taken once, by the same record", () => {
    const a = new SpecsAhead();
    const c = record("a");
    const b = built();
    a.put(c, b);
    expect(a.take(c)?.spec).toBe(b.spec);
    expect(a.take(c)).toBeUndefined();
  });

  it("is not taken once the record changed: other config objects, or a later run", () => {
    const a = new SpecsAhead();
    const c = record("b");
    a.put(c, built());
    expect(a.take({ ...c, config: { ...c.config } })).toBeUndefined();
    a.put(c, built());
    expect(a.take({ ...c, hostConfig: { Privileged: true } })).toBeUndefined();
    a.put(c, built());
    expect(a.take({ ...c, generation: 1 })).toBeUndefined();
  });

  it("is not taken when older than its age limit, nor after a drop", async () => {
    const a = new SpecsAhead(20);
    const c = record("c");
    a.put(c, built());
    await Bun.sleep(40);
    expect(a.take(c)).toBeUndefined();
    a.put(c, built());
    a.drop(c.id);
    expect(a.take(c)).toBeUndefined();
  });
});

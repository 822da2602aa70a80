// Plan -> the executor's wire format (see native/executor/plan.h).
import { OPS } from "./ops.ts";
import type { Plan } from "./types.ts";

const enc = new TextEncoder();

export function encodePlan(plan: Plan): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  const push = (b: Uint8Array) => {
    parts.push(b);
    size += b.length;
  };
  const u32 = (n: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n, true);
    return b;
  };
  push(enc.encode("BRTP"));
  push(u32(1));
  push(u32(plan.steps.length));
  for (const step of plan.steps) {
    const def = OPS[step.op];
    const head = new Uint8Array(4);
    const dv = new DataView(head.buffer);
    dv.setUint16(0, def.code, true);
    dv.setUint16(2, def.fields.length, true);
    push(head);
    for (const [name, kind] of def.fields) {
      const v = step.args[name];
      if (v === undefined) throw new Error(`plan: step ${step.op} lacks field ${name}`);
      if (kind === "i") {
        const b = new Uint8Array(9);
        b[0] = 0x69; // 'i'
        const big = typeof v === "bigint" ? v : BigInt(v as number);
        new DataView(b.buffer).setBigUint64(1, BigInt.asUintN(64, big), true);
        push(b);
      } else {
        const bytes = typeof v === "string" ? enc.encode(v) : (v as Uint8Array);
        const b = new Uint8Array(5 + bytes.length + 1);
        b[0] = 0x73; // 's'
        new DataView(b.buffer).setUint32(1, bytes.length, true);
        b.set(bytes, 5);
        push(b);
      }
    }
  }
  const out = new Uint8Array(4 + size);
  new DataView(out.buffer).setUint32(0, size, true); // length prefix read by the executor
  let off = 4;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

// Plan -> the executor's wire format (see native/executor/plan.h).
import { OPS } from "./ops.ts";
import type { Plan } from "./types.ts";

const enc = new TextEncoder();

/** Plans encoded already (encodeAhead), by plan object: a plan is not changed once made. */
const encoded = new WeakMap<Plan, Uint8Array>();

/** Encodes `plan` now, for the launch that sends it later (berthd's plans made ahead). */
export function encodeAhead(plan: Plan): void {
  if (!encoded.has(plan)) encoded.set(plan, encodePlan(plan));
}

/** The plan's bytes: encoded ahead, or now. */
export function planBytes(plan: Plan): Uint8Array {
  return encoded.get(plan) ?? encodePlan(plan);
}

/**
 * One pass into one buffer (it grows by doubling): a plan is ~80 steps and ~300 fields, and a
 * small array per field cost most of a millisecond per start.
 */
export function encodePlan(plan: Plan): Uint8Array {
  let buf = new Uint8Array(16 << 10);
  let dv = new DataView(buf.buffer);
  let off = 4; // the length prefix, read by the executor, goes first
  const room = (n: number) => {
    if (off + n <= buf.length) return;
    let size = buf.length * 2;
    while (off + n > size) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(buf.subarray(0, off));
    buf = bigger;
    dv = new DataView(buf.buffer);
  };
  const u32 = (n: number) => {
    room(4);
    dv.setUint32(off, n, true);
    off += 4;
  };
  room(4);
  buf.set([0x42, 0x52, 0x54, 0x50], off); // "BRTP"
  off += 4;
  u32(1);
  u32(plan.steps.length);
  // Index loops, not for-of with destructuring: the interpreter makes an iterator for each.
  const steps = plan.steps;
  for (let si = 0; si < steps.length; si++) {
    const step = steps[si];
    const def = OPS[step.op];
    const fields = def.fields;
    // Room for the whole step at once (a string takes at most 3 bytes per UTF-16 unit).
    let need = 4;
    for (let k = 0; k < fields.length; k++) {
      const v = step.args[fields[k][0]];
      need += fields[k][1] === "i" ? 9 : 6 + (typeof v === "string" ? v.length * 3 : ((v as Uint8Array | undefined)?.length ?? 0));
    }
    room(need);
    dv.setUint16(off, def.code, true);
    dv.setUint16(off + 2, fields.length, true);
    off += 4;
    for (let k = 0; k < fields.length; k++) {
      const name = fields[k][0], kind = fields[k][1];
      const v = step.args[name];
      if (v === undefined) throw new Error(`plan: step ${step.op} lacks field ${name}`);
      if (kind === "i") {
        buf[off] = 0x69; // 'i'
        if (typeof v === "number" && v >= 0 && Number.isSafeInteger(v)) {
          // the common case, as two 32-bit halves: no BigInt made for each of some 200 fields
          dv.setUint32(off + 1, v >>> 0, true);
          dv.setUint32(off + 5, Math.floor(v / 0x100000000), true);
        } else {
          dv.setBigUint64(off + 1, BigInt.asUintN(64, typeof v === "bigint" ? v : BigInt(v as number)), true);
        }
        off += 9;
      } else {
        // 's', a u32 length, the bytes, a NUL; a string takes at most 3 bytes per UTF-16 unit.
        buf[off] = 0x73;
        let n: number;
        if (typeof v === "string") n = enc.encodeInto(v, buf.subarray(off + 5)).written;
        else {
          buf.set(v as Uint8Array, off + 5);
          n = (v as Uint8Array).length;
        }
        dv.setUint32(off + 1, n, true);
        buf[off + 5 + n] = 0;
        off += 6 + n;
      }
    }
  }
  dv.setUint32(0, off - 4, true);
  return buf.subarray(0, off);
}

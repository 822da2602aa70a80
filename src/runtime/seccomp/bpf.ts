// Classic BPF as seccomp uses it: opcodes, a small label-based assembly form, and the
// assembler that turns it into `struct sock_filter` bytes.
//
// Conditional jumps in classic BPF only reach 255 instructions forward (jt/jf are u8),
// while JA takes a 32-bit offset. Code generators here jump to labels and never think
// about distance; the assembler rewrites any conditional jump that does not fit into a
// jump to an adjacent `ja` ("trampoline") that goes the rest of the way.

// Opcode pieces from <linux/filter.h> / <linux/bpf_common.h>.
export const BPF_LD = 0x00;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_W = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IMM = 0x00;
export const BPF_K = 0x00;
export const BPF_A = 0x10;
export const BPF_AND = 0x50;
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;

/** Kernel limit on filter length (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

// struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; }
export const SECCOMP_DATA_NR = 0;
export const SECCOMP_DATA_ARCH = 4;
export const SECCOMP_DATA_ARGS = 16;

/** Offset of the low (lo = true) or high 32-bit word of argument i, little-endian. */
export function argOffset(i: number, lo: boolean): number {
  return SECCOMP_DATA_ARGS + 8 * i + (lo ? 0 : 4);
}

export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export type JumpCond = "jeq" | "jgt" | "jge" | "jset";

const JUMP_CODES: Record<JumpCond, number> = {
  jeq: BPF_JMP | BPF_JEQ | BPF_K,
  jgt: BPF_JMP | BPF_JGT | BPF_K,
  jge: BPF_JMP | BPF_JGE | BPF_K,
  jset: BPF_JMP | BPF_JSET | BPF_K,
};

/** A jump target. Create with `newLabel()`, place with `{ op: "label" }`. */
export interface Label {
  readonly id: number;
  readonly name: string;
}

export type Insn =
  | { op: "ld"; k: number } //                     A = seccomp_data[k] (32-bit)
  | { op: "and"; k: number } //                    A &= k
  | { op: "jmp"; cond: JumpCond; k: number; jt: Label; jf: Label }
  | { op: "ja"; target: Label }
  | { op: "ret"; k: number }
  | { op: "label"; label: Label };

let nextLabelId = 0;
export function newLabel(name = "L"): Label {
  return { id: nextLabelId++, name };
}

/** An append-only instruction list with helpers for the common shapes. */
export class Program {
  readonly insns: Insn[] = [];

  ld(k: number): void {
    this.insns.push({ op: "ld", k });
  }
  and(k: number): void {
    this.insns.push({ op: "and", k: k >>> 0 });
  }
  jmp(cond: JumpCond, k: number, jt: Label, jf: Label): void {
    this.insns.push({ op: "jmp", cond, k: k >>> 0, jt, jf });
  }
  ja(target: Label): void {
    this.insns.push({ op: "ja", target });
  }
  ret(k: number): void {
    this.insns.push({ op: "ret", k: k >>> 0 });
  }
  place(label: Label): void {
    this.insns.push({ op: "label", label });
  }
}

/**
 * Resolves labels and encodes. Jumps must go forward (classic BPF cannot jump back);
 * a conditional branch too far for its u8 offset gets a `ja` trampoline right after
 * the jump. Adding trampolines moves code, which can push other jumps out of range, so
 * the layout is recomputed until nothing changes (each jump only ever goes from short
 * to long, so this terminates).
 */
export function assemble(insns: readonly Insn[]): SockFilter[] {
  const real = insns.filter((i) => i.op !== "label");
  // long[i] bit 1: jt needs a trampoline, bit 2: jf needs one.
  const long = new Uint8Array(real.length);

  for (;;) {
    // Pass 1: positions of instructions and labels under the current layout.
    const pos = new Int32Array(real.length);
    const labelPos = new Map<number, number>();
    let pc = 0;
    let r = 0;
    for (const insn of insns) {
      if (insn.op === "label") {
        labelPos.set(insn.label.id, pc);
        continue;
      }
      pos[r] = pc;
      pc += 1 + (long[r]! & 1 ? 1 : 0) + (long[r]! & 2 ? 1 : 0);
      r++;
    }
    const where = (l: Label): number => {
      const p = labelPos.get(l.id);
      if (p === undefined) throw new Error(`seccomp assembler: label ${l.name}#${l.id} is never placed`);
      return p;
    };

    // Pass 2: find jumps that do not fit.
    let changed = false;
    real.forEach((insn, i) => {
      if (insn.op !== "jmp") return;
      const from = pos[i]! + 1;
      if (!(long[i]! & 1) && where(insn.jt) - from > 255) {
        long[i] = long[i]! | 1;
        changed = true;
      }
      if (!(long[i]! & 2) && where(insn.jf) - from > 255) {
        long[i] = long[i]! | 2;
        changed = true;
      }
    });
    if (changed) continue;

    // Pass 3: encode.
    const out: SockFilter[] = [];
    real.forEach((insn, i) => {
      const from = pos[i]! + 1;
      const rel = (l: Label, at: number): number => {
        const d = where(l) - at;
        if (d < 0) throw new Error(`seccomp assembler: backward jump to ${l.name}#${l.id}`);
        return d;
      };
      switch (insn.op) {
        case "ld":
          out.push({ code: BPF_LD | BPF_W | BPF_ABS, jt: 0, jf: 0, k: insn.k });
          break;
        case "and":
          out.push({ code: BPF_ALU | BPF_AND | BPF_K, jt: 0, jf: 0, k: insn.k });
          break;
        case "ret":
          out.push({ code: BPF_RET | BPF_K, jt: 0, jf: 0, k: insn.k });
          break;
        case "ja":
          out.push({ code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: rel(insn.target, from) });
          break;
        case "jmp": {
          const jtLong = (long[i]! & 1) !== 0;
          const jfLong = (long[i]! & 2) !== 0;
          // Trampolines sit right after the jump: [jmp][ja → jt target][ja → jf target].
          const jt = jtLong ? 0 : rel(insn.jt, from);
          const jf = jfLong ? (jtLong ? 1 : 0) : rel(insn.jf, from);
          out.push({ code: JUMP_CODES[insn.cond], jt, jf, k: insn.k });
          let slot = from;
          if (jtLong) out.push({ code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: rel(insn.jt, ++slot) });
          if (jfLong) out.push({ code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: rel(insn.jf, ++slot) });
          break;
        }
      }
    });
    return out;
  }
}

/** struct sock_filter[] in the host (little-endian) byte order the kernel expects. */
export function encode(filter: readonly SockFilter[]): Uint8Array {
  const bytes = new Uint8Array(filter.length * 8);
  const view = new DataView(bytes.buffer);
  filter.forEach((f, i) => {
    view.setUint16(i * 8, f.code, true);
    view.setUint8(i * 8 + 2, f.jt);
    view.setUint8(i * 8 + 3, f.jf);
    view.setUint32(i * 8 + 4, f.k >>> 0, true);
  });
  return bytes;
}

export function decode(bytes: Uint8Array): SockFilter[] {
  if (bytes.length % 8 !== 0) throw new Error(`BPF program length ${bytes.length} is not a multiple of 8`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: SockFilter[] = [];
  for (let o = 0; o < bytes.length; o += 8) {
    out.push({ code: view.getUint16(o, true), jt: view.getUint8(o + 2), jf: view.getUint8(o + 3), k: view.getUint32(o + 4, true) });
  }
  return out;
}

// A tiny classic-BPF interpreter for the subset seccomp filters use, so tests can run a
// compiled filter against a fake `struct seccomp_data` without loading it into a kernel.
// It is strict on purpose: anything the compiler should never emit (unknown opcodes,
// misaligned or out-of-range loads, jumps off the end, no `ret`) throws.

import {
  BPF_A,
  BPF_ABS,
  BPF_ALU,
  BPF_AND,
  BPF_IMM,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_JSET,
  BPF_K,
  BPF_LD,
  BPF_MAXINSNS,
  BPF_RET,
  BPF_W,
  decode,
  type SockFilter,
} from "./bpf.ts";

export interface SeccompData {
  /** Syscall number as the kernel reports it (an int; negative values wrap to u32). */
  nr: number;
  /** AUDIT_ARCH_* value. */
  arch: number;
  instruction_pointer?: bigint;
  /** Up to six u64 arguments; missing ones are 0. */
  args?: readonly bigint[];
}

const SECCOMP_DATA_SIZE = 64;

/** Serializes seccomp_data exactly as the kernel lays it out (little-endian). */
function dataWords(d: SeccompData): Uint32Array {
  const buf = new DataView(new ArrayBuffer(SECCOMP_DATA_SIZE));
  buf.setUint32(0, d.nr >>> 0, true);
  buf.setUint32(4, d.arch >>> 0, true);
  buf.setBigUint64(8, BigInt.asUintN(64, d.instruction_pointer ?? 0n), true);
  for (let i = 0; i < 6; i++) buf.setBigUint64(16 + 8 * i, BigInt.asUintN(64, d.args?.[i] ?? 0n), true);
  const words = new Uint32Array(SECCOMP_DATA_SIZE / 4);
  for (let i = 0; i < words.length; i++) words[i] = buf.getUint32(i * 4, true);
  return words;
}

export interface RunResult {
  /** The filter's u32 return value (SECCOMP_RET_*). */
  ret: number;
  /** Instructions executed, a proxy for per-syscall cost. */
  executed: number;
}

export function runFilterDetailed(filter: Uint8Array | readonly SockFilter[], data: SeccompData): RunResult {
  const prog = filter instanceof Uint8Array ? decode(filter) : filter;
  if (prog.length === 0 || prog.length > BPF_MAXINSNS) throw new Error(`bad program length ${prog.length}`);
  const mem = dataWords(data);
  let a = 0;
  let pc = 0;
  let executed = 0;

  for (;;) {
    const insn = prog[pc];
    if (!insn) throw new Error(`pc ${pc} ran off the end of the program`);
    executed++;
    const { code, jt, jf, k } = insn;
    const cls = code & 0x07;
    switch (cls) {
      case BPF_LD: {
        if (code === (BPF_LD | BPF_W | BPF_ABS)) {
          if (k % 4 !== 0 || k >= SECCOMP_DATA_SIZE) throw new Error(`pc ${pc}: bad load offset ${k}`);
          a = mem[k / 4]!;
        } else if (code === (BPF_LD | BPF_W | BPF_IMM)) {
          a = k >>> 0;
        } else {
          throw new Error(`pc ${pc}: unsupported load 0x${code.toString(16)}`);
        }
        pc++;
        break;
      }
      case BPF_ALU: {
        if (code !== (BPF_ALU | BPF_AND | BPF_K)) throw new Error(`pc ${pc}: unsupported ALU op 0x${code.toString(16)}`);
        a = (a & k) >>> 0;
        pc++;
        break;
      }
      case BPF_JMP: {
        const op = code & 0xf0;
        if (op === BPF_JA) {
          if (code !== (BPF_JMP | BPF_JA)) throw new Error(`pc ${pc}: bad ja 0x${code.toString(16)}`);
          pc += 1 + k;
          break;
        }
        if ((code & 0x08) !== BPF_K) throw new Error(`pc ${pc}: jumps on X are not supported`);
        let taken: boolean;
        if (op === BPF_JEQ) taken = a === k >>> 0;
        else if (op === BPF_JGT) taken = a > k >>> 0;
        else if (op === BPF_JGE) taken = a >= k >>> 0;
        else if (op === BPF_JSET) taken = (a & k) !== 0;
        else throw new Error(`pc ${pc}: unsupported jump 0x${code.toString(16)}`);
        pc += 1 + (taken ? jt : jf);
        break;
      }
      case BPF_RET: {
        if (code === (BPF_RET | BPF_K)) return { ret: k >>> 0, executed };
        if (code === (BPF_RET | BPF_A)) return { ret: a >>> 0, executed };
        throw new Error(`pc ${pc}: unsupported ret 0x${code.toString(16)}`);
      }
      default:
        throw new Error(`pc ${pc}: unsupported instruction class ${cls}`);
    }
  }
}

/** Runs the filter and returns its SECCOMP_RET_* value. */
export function runFilter(filter: Uint8Array | readonly SockFilter[], data: SeccompData): number {
  return runFilterDetailed(filter, data).ret;
}

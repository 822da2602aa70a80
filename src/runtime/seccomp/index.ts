// Seccomp: compile an OCI `linux.seccomp` profile into a classic BPF filter that the
// executor loads with seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog).
//
//   actions.ts     action names → SECCOMP_RET_* values
//   tables.ts      architectures + syscall tables (syscall-tables.generated.ts)
//   profile.ts     validation of the JSON, with JSON-path errors
//   codegen.ts     argument comparisons, rule chains, binary search on the syscall number
//   bpf.ts         opcodes, label-based assembler with long-jump trampolines, encoding
//   compile.ts     putting it together + the dry-run summary
//   bpf-interpreter.ts  a tiny seccomp-BPF interpreter for tests

export { type CompiledSeccomp, compileSeccomp } from "./compile.ts";
export {
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_TSYNC,
} from "./profile.ts";
export {
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_LOG,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_TRAP,
} from "./actions.ts";
export { AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT } from "./tables.ts";

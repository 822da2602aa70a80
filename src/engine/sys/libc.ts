// The few libc calls node:fs and node:net lack (mknod, xattrs, mount, sealed memfds, unix
// socketpairs and fd passing) through bun:ffi. Each wrapper throws an Error carrying the errno
// name, like node:fs does, so callers can word one-line messages.
import { dlopen, FFIType, ptr, toArrayBuffer } from "bun:ffi";
import fs from "node:fs";
import os from "node:os";

// size_t is 64-bit on the targets we build for (bun:ffi has no usize).
const { i32, u32, u64, ptr: P } = FFIType;
const usize = u64;

const lib = dlopen("libc.so.6", {
  mknod: { args: [P, u32, u64], returns: i32 },
  lsetxattr: { args: [P, P, P, usize, i32], returns: i32 },
  lgetxattr: { args: [P, P, P, usize], returns: FFIType.i64 },
  mount: { args: [P, P, P, u64, P], returns: i32 },
  umount2: { args: [P, i32], returns: i32 },
  memfd_create: { args: [P, u32], returns: i32 },
  fcntl: { args: [i32, i32, i32], returns: i32 },
  socketpair: { args: [i32, i32, i32, P], returns: i32 },
  sendmsg: { args: [i32, P, i32], returns: FFIType.i64 },
  __errno_location: { args: [], returns: P },
  syscall: { args: [FFIType.i64, FFIType.i64, FFIType.i64, FFIType.i64, FFIType.i64, FFIType.i64], returns: FFIType.i64 },
  ioctl: { args: [i32, u64, P], returns: i32 },
});

const enc = new TextEncoder();
const cstr = (s: string) => enc.encode(s + "\0");
const errnoNames = Object.fromEntries(Object.entries(os.constants.errno).map(([k, v]) => [v, k]));

function errno(): number {
  const p = lib.symbols.__errno_location();
  return new Int32Array(toArrayBuffer(p!, 0, 4))[0];
}

/** "ENOENT" for 2: the name node:fs would put in an error's code. */
export function errnoName(n: number): string {
  return errnoNames[n] ?? `errno ${n}`;
}

function fail(call: string, path: string): never {
  const n = errno();
  const name = errnoName(n);
  const e = new Error(`${call} ${path}: ${name}`) as Error & { code: string; errno: number };
  e.code = name;
  e.errno = n;
  throw e;
}

export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

/** makedev as glibc encodes it. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major), mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
}

export function mknod(path: string, mode: number, dev: bigint = 0n): void {
  if (lib.symbols.mknod(ptr(cstr(path)), mode, dev) !== 0) fail("mknod", path);
}

export function lsetxattr(path: string, name: string, value: Uint8Array | string): void {
  const v = typeof value === "string" ? enc.encode(value) : value;
  const buf = v.length ? v : new Uint8Array(1);
  if (lib.symbols.lsetxattr(ptr(cstr(path)), ptr(cstr(name)), ptr(buf), v.length, 0) !== 0) fail("lsetxattr", path);
}

/** The value of an xattr, or undefined when it is not set. */
export function lgetxattr(path: string, name: string): Uint8Array | undefined {
  const buf = new Uint8Array(4096);
  const n = Number(lib.symbols.lgetxattr(ptr(cstr(path)), ptr(cstr(name)), ptr(buf), buf.length));
  if (n < 0) {
    if (errnoNames[errno()] === "ENODATA") return undefined;
    fail("lgetxattr", path);
  }
  return buf.slice(0, n);
}

export const MNT_DETACH = 2;

export function mount(source: string, target: string, fstype: string, flags: number, data: string): void {
  if (lib.symbols.mount(ptr(cstr(source)), ptr(cstr(target)), ptr(cstr(fstype)), BigInt(flags), ptr(cstr(data))) !== 0) {
    fail("mount", target);
  }
}

export function umount2(target: string, flags = 0): void {
  if (lib.symbols.umount2(ptr(cstr(target)), flags) !== 0) fail("umount", target);
}

// The new mount API (fsopen/fsconfig/fsmount/move_mount, x86_64 numbers): overlayfs's
// "lowerdir+" adds one lower layer per call, so the one-page limit on mount data does not apply.
const SYS_fsopen = 430, SYS_fsconfig = 431, SYS_fsmount = 432, SYS_move_mount = 429;
const FSCONFIG_SET_STRING = 1, FSCONFIG_CMD_CREATE = 6, MOVE_MOUNT_F_EMPTY_PATH = 4, AT_FDCWD = -100;

function sys(n: number, a = 0n, b = 0n, c = 0n, d = 0n, e = 0n): number {
  return Number(lib.symbols.syscall(n, a, b, c, d, e));
}
const addr = (b: Uint8Array) => BigInt(ptr(b));

/** Mounts an overlay with each option given separately (kernel ≥ 6.8 for lowerdir+). */
export function mountOverlayFsconfig(target: string, options: [string, string][]): void {
  const fsName = cstr("overlay");
  const fd = sys(SYS_fsopen, addr(fsName), 1n /* FSOPEN_CLOEXEC */);
  if (fd < 0) fail("fsopen", "overlay");
  let mfd = -1;
  try {
    for (const [k, v] of options) {
      const kb = cstr(k), vb = cstr(v);
      if (sys(SYS_fsconfig, BigInt(fd), BigInt(FSCONFIG_SET_STRING), addr(kb), addr(vb), 0n) < 0) fail(`fsconfig ${k}`, v);
    }
    if (sys(SYS_fsconfig, BigInt(fd), BigInt(FSCONFIG_CMD_CREATE), 0n, 0n, 0n) < 0) fail("fsconfig create", target);
    mfd = sys(SYS_fsmount, BigInt(fd), 1n /* FSMOUNT_CLOEXEC */, 0n);
    if (mfd < 0) fail("fsmount", target);
    const empty = cstr(""), tb = cstr(target);
    if (sys(SYS_move_mount, BigInt(mfd), addr(empty), BigInt(AT_FDCWD), addr(tb), BigInt(MOVE_MOUNT_F_EMPTY_PATH)) < 0) {
      fail("move_mount", target);
    }
  } finally {
    fs.closeSync(fd);
    if (mfd >= 0) fs.closeSync(mfd);
  }
}

const MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2, F_ADD_SEALS = 1033;
const F_SEAL_ALL = 1 | 2 | 4 | 8; // SEAL, SHRINK, GROW, WRITE

/**
 * An fd of a sealed, anonymous copy of `bytes`: nothing can write to it, and it has no path on
 * disk. berthd runs the executor from one (CVE-2019-5736: a container must never reach the
 * binary on the host through /proc/PID/exe).
 */
export function sealedMemfd(name: string, bytes: Uint8Array): number {
  const fd = lib.symbols.memfd_create(ptr(cstr(name)), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) fail("memfd_create", name);
  try {
    for (let off = 0; off < bytes.length; ) off += fs.writeSync(fd, bytes, off, bytes.length - off);
    if (lib.symbols.fcntl(fd, F_ADD_SEALS, F_SEAL_ALL) !== 0) fail("fcntl(F_ADD_SEALS)", name);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  return fd;
}

/** The seals of a memfd (fcntl F_GET_SEALS): F_SEAL_SEAL 1, SHRINK 2, GROW 4, WRITE 8; -1 for other files. */
export function sealsOf(fd: number): number {
  return lib.symbols.fcntl(fd, 1034 /* F_GET_SEALS */, 0);
}

const FS_IOC_GETFLAGS = 0x80086601n, FS_IOC_SETFLAGS = 0x40086602n, FS_TOPDIR_FL = 0x00020000;

/**
 * Marks `dir` as a top of directory hierarchies (chattr +T): ext4's allocator then places each
 * directory made in it in a block group of its own choosing, with that directory's files beside
 * it, instead of packing every sibling into the parent's group. Why berthd wants that: a
 * container's directories and files are made and deleted in bulk, and ext4 without a journal
 * skips an inode deleted less than a minute ago by scanning past it, one buffer lookup per
 * recently freed inode, on every new inode of the group. Measured here with 50 concurrent
 * starts after 50 removals: 2.6 ms of inode allocation per container. False where the
 * filesystem has no such flag (tmpfs, overlayfs, xfs ignore or refuse it): nothing to spread.
 */
export function spreadSubdirectories(dir: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  } catch {
    return false;
  }
  try {
    const flags = new Int32Array(1);
    if (lib.symbols.ioctl(fd, FS_IOC_GETFLAGS, ptr(flags)) !== 0) return false;
    if (flags[0] & FS_TOPDIR_FL) return true;
    flags[0] |= FS_TOPDIR_FL;
    return lib.symbols.ioctl(fd, FS_IOC_SETFLAGS, ptr(flags)) === 0;
  } finally {
    fs.closeSync(fd);
  }
}

export const SOCK_STREAM = 1, SOCK_SEQPACKET = 5;
const AF_UNIX = 1, SOCK_CLOEXEC = 0o2000000, SOCK_NONBLOCK = 0o4000;

/** A unix socketpair, both ends close-on-exec; `nonblockFirst` makes the first end non-blocking. */
export function socketpair(type: number, nonblockFirst = false): [number, number] {
  const sv = new Int32Array(2);
  if (lib.symbols.socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, ptr(sv)) !== 0) fail("socketpair", "AF_UNIX");
  if (nonblockFirst && lib.symbols.fcntl(sv[0], 4 /* F_SETFL */, 0o2 | SOCK_NONBLOCK /* O_RDWR|O_NONBLOCK */) !== 0) {
    fs.closeSync(sv[0]);
    fs.closeSync(sv[1]);
    fail("fcntl(O_NONBLOCK)", "socketpair");
  }
  return [sv[0], sv[1]];
}

/**
 * One message on a unix socket with fds attached (SCM_RIGHTS), which node:net cannot send.
 * x86_64 layouts: msghdr 56 bytes, iovec 16, cmsghdr 16 + data.
 */
export function sendWithFds(sock: number, data: Uint8Array, fds: number[]): void {
  const iov = new DataView(new ArrayBuffer(16));
  const body = data.length ? data : new Uint8Array(1);
  iov.setBigUint64(0, BigInt(ptr(body)), true);
  iov.setBigUint64(8, BigInt(data.length), true);
  const space = 16 + Math.ceil((fds.length * 4) / 8) * 8;
  const cmsg = new DataView(new ArrayBuffer(Math.max(space, 16)));
  cmsg.setBigUint64(0, BigInt(16 + fds.length * 4), true);
  cmsg.setInt32(8, 1, true); // SOL_SOCKET
  cmsg.setInt32(12, 1, true); // SCM_RIGHTS
  fds.forEach((fd, i) => cmsg.setInt32(16 + i * 4, fd, true));
  const msg = new DataView(new ArrayBuffer(56));
  msg.setBigUint64(16, BigInt(ptr(iov)), true);
  msg.setBigUint64(24, 1n, true);
  if (fds.length) {
    msg.setBigUint64(32, BigInt(ptr(cmsg)), true);
    msg.setBigUint64(40, BigInt(space), true);
  }
  const n = Number(lib.symbols.sendmsg(sock, ptr(msg), 0x4000 /* MSG_NOSIGNAL */));
  if (n !== data.length) fail("sendmsg", `fd ${sock}`);
}

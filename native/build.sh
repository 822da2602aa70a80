#!/bin/sh
# Builds the C programs with the machine's C compiler. Run by `npm install` (postinstall).
# Static, so they need nothing from the host once exec'd, and start without a dynamic loader.
#
# With musl (Debian's musl-tools) when it is there: a static glibc program spends most of its
# start-up asking the CPU what it is (cpuid, one VM exit each, 7 us apiece on this VM) to pick
# its string functions and cache sizes; musl asks nothing. Measured here, fork + exec + exit of
# an empty static program: 0.69 ms with glibc, 0.24 ms with musl. Every container start execs
# the monitor, and every `berth` call the executor, so that is on each start's path.
# BERTH_CC=cc forces the host's compiler (glibc); the programs are the same either way.
cd "$(dirname "$0")"
native=$(pwd)
if [ -n "$BERTH_CC" ]; then
  CC=$BERTH_CC
elif [ -z "$CC" ] && command -v musl-gcc >/dev/null 2>&1; then
  CC=musl-gcc
fi
CC="${CC:-cc}"
if ! command -v "$CC" >/dev/null 2>&1; then
  echo "berth: no C compiler ($CC) found; install one (apt-get install -y gcc libc6-dev) and rerun npm install" >&2
  exit 1
fi
# One program: in native/DIR, OUT from the compiler arguments that follow, replaced only when
# the build succeeds.
one() {
  dir=$1 out=$2
  shift 2
  (cd "$native/$dir" && $CC $FLAGS -o "$out.tmp" "$@" && mv "$out.tmp" "$out")
}

# One build of all five programs with $CC; returns non-zero at the first failure.
build_all() {
  extra=""
  if [ "$CC" = musl-gcc ]; then
    # musl's include path has no kernel headers; give it the host's (linux-libc-dev), and only those.
    kinc="$native/.kernel-headers"
    rm -rf "$kinc" && mkdir -p "$kinc" || return 1
    arch=$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)
    for d in linux asm-generic; do [ -d "/usr/include/$d" ] && ln -s "/usr/include/$d" "$kinc/$d"; done
    if [ -d "/usr/include/$arch/asm" ]; then ln -s "/usr/include/$arch/asm" "$kinc/asm"; elif [ -d /usr/include/asm ]; then ln -s /usr/include/asm "$kinc/asm"; fi
    extra="-isystem $kinc"
  fi
  FLAGS="-std=gnu11 -O2 -Wall -Wextra -Werror -Wno-unused-parameter -static -s $extra"
  EXECUTOR="main.c stage1.c plan.c mounts.c process.c console.c hooks.c notify.c"
  one executor berth-executor $EXECUTOR || return 1
  # The per-container monitor (berthd): small and static too, so a container outlives any library
  # upgrade. The executor is built into it (--builtin-executor): its child runs the executor
  # without exec'ing a program of its own.
  one monitor berth-monitor -DBERTH_EXECUTOR_BUILTIN monitor.c util.c log.c $(for f in $EXECUTOR; do printf '../executor/%s ' "$f"; done) || return 1
  # berthd's process starter (spawner.c says why it exists); static like the others.
  one spawner berth-spawner spawner.c || return 1
  # `docker run --init`'s init (init.c), mounted into containers, so static above all.
  one init berth-init init.c || return 1
  # berthd's unmount helper (umount.c says why not util-linux's).
  one umount berth-umount umount.c || return 1
}

if ! build_all; then
  [ "$CC" = musl-gcc ] || exit 1
  echo "berth: the build against musl failed (above); building against glibc instead" >&2
  CC=cc
  build_all || exit 1
fi

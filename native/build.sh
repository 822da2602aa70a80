#!/bin/sh
# Builds the C executor with the machine's C compiler. Run by `npm install` (postinstall).
# Static, so it needs nothing from the host once exec'd, and starts without a dynamic loader.
set -e
cd "$(dirname "$0")/executor"
CC="${CC:-cc}"
if ! command -v "$CC" >/dev/null 2>&1; then
  echo "berth: no C compiler ($CC) found; install one (apt-get install -y gcc libc6-dev) and rerun npm install" >&2
  exit 1
fi
$CC -std=gnu11 -O2 -Wall -Wextra -Werror -Wno-unused-parameter -static -s \
  -o berth-executor.tmp main.c plan.c mounts.c process.c console.c hooks.c notify.c
mv berth-executor.tmp berth-executor
cd ../monitor
# The per-container monitor (berthd): small and static too, so a container outlives any library upgrade.
# The executor is built into it (--builtin-executor): its child runs the executor without exec'ing
# a program of its own.
$CC -std=gnu11 -O2 -Wall -Wextra -Werror -Wno-unused-parameter -static -s -DBERTH_EXECUTOR_BUILTIN \
  -o berth-monitor.tmp monitor.c util.c log.c \
  ../executor/main.c ../executor/plan.c ../executor/mounts.c ../executor/process.c ../executor/console.c ../executor/hooks.c ../executor/notify.c
mv berth-monitor.tmp berth-monitor
cd ../spawner
# berthd's process starter (spawner.c says why it exists); static like the others.
$CC -std=gnu11 -O2 -Wall -Wextra -Werror -Wno-unused-parameter -static -s \
  -o berth-spawner.tmp spawner.c
mv berth-spawner.tmp berth-spawner
cd ../init
# `docker run --init`'s init (init.c), mounted into containers, so static above all.
$CC -std=gnu11 -O2 -Wall -Wextra -Werror -Wno-unused-parameter -static -s \
  -o berth-init.tmp init.c
mv berth-init.tmp berth-init

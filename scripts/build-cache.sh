#!/bin/sh
# Precompiles each command into its own bytecode-cached bundle, .cache/<command>.js, which
# bin/berth runs while no file under src/ is newer than .cache/stamp (edit a source and bin/berth
# runs the sources directly). Why: loading ~40 TypeScript modules costs 10-20 ms per call, and
# containerd calls the runtime 4-6 times per container; one command's bundle loads in ~5 ms.
# Run by `npm install`; rerun it (`npm run cache`) after hacking to get the speed back.
cd "$(dirname "$0")/.."
BUN=node_modules/@oven/bun-linux-x64/bin/bun
repo=$(pwd)
rm -rf .cache.tmp && mkdir -p .cache.tmp/entries
: > .cache.tmp/stamp   # taken before building: a source edited meanwhile makes the cache stale
ok=1
for f in src/cli/commands/*.ts; do
  cmd=$(basename "$f" .ts)
  grep -q "^export async function run" "$f" || continue   # helpers such as common.ts
  cat > ".cache.tmp/entries/$cmd.ts" <<EOT
import { cli } from "$repo/src/cli/main.ts";
import * as command from "$repo/src/cli/commands/$cmd.ts";
cli(process.argv.slice(2), { "$cmd": command });
EOT
  if ! "$BUN" build ".cache.tmp/entries/$cmd.ts" --target=bun --format=cjs --bytecode \
      --minify-syntax --minify-whitespace --outdir ".cache.tmp/out-$cmd" >/dev/null 2>".cache.tmp/$cmd.log"; then
    ok=0
    echo "berth: could not build the start-up cache for '$cmd' (see .cache.tmp/$cmd.log)" >&2
    continue
  fi
  mv ".cache.tmp/out-$cmd/$cmd.js" ".cache.tmp/$cmd.js"
  mv ".cache.tmp/out-$cmd/$cmd.js.jsc" ".cache.tmp/$cmd.js.jsc"
  rm -rf ".cache.tmp/out-$cmd" ".cache.tmp/$cmd.log"
done
# berthd too: a daemon starts once, but the bundle's bytecode spares it the transpiler and the
# parse of ~100 modules, which is 3-4 MB of its resident memory for as long as it runs.
cat > ".cache.tmp/entries/berthd.ts" <<EOT
import { main } from "$repo/src/engine/daemon/main.ts";
void main(process.argv.slice(2));
EOT
if "$BUN" build ".cache.tmp/entries/berthd.ts" --target=bun --format=cjs --bytecode \
    --minify-syntax --minify-whitespace --outdir ".cache.tmp/out-berthd" >/dev/null 2>".cache.tmp/berthd.log"; then
  mv ".cache.tmp/out-berthd/berthd.js" ".cache.tmp/berthd.js"
  mv ".cache.tmp/out-berthd/berthd.js.jsc" ".cache.tmp/berthd.js.jsc"
  rm -rf ".cache.tmp/out-berthd" ".cache.tmp/berthd.log"
else
  ok=0
  echo "berth: could not build the start-up cache for berthd (see .cache.tmp/berthd.log)" >&2
fi
rm -rf .cache.tmp/entries
if [ $ok = 1 ]; then
  rm -rf .cache && mv .cache.tmp .cache
else
  rm -rf .cache
  echo "berth: bin/berth will run the sources directly" >&2
fi

#!/bin/sh
# Precompiles the CLI into one bytecode-cached file, .cache/berth.js, which bin/berth runs while
# no file under src/ is newer than it (edit a source and bin/berth runs the sources directly).
# Why: parsing ~40 TypeScript modules costs ~15 ms per call, and containerd calls the runtime
# 4-6 times per container. Run by `npm install`; rerun it (`npm run cache`) after hacking.
cd "$(dirname "$0")/.."
BUN=node_modules/@oven/bun-linux-x64/bin/bun
mkdir -p .cache
if "$BUN" build src/cli/main.ts --target=bun --format=cjs --bytecode --minify-syntax --minify-whitespace \
    --outdir .cache.tmp >/dev/null 2>.cache/build.log; then
  mv .cache.tmp/main.js .cache/berth.js.tmp && mv .cache.tmp/main.js.jsc .cache/berth.js.jsc
  mv .cache/berth.js.tmp .cache/berth.js
  rm -rf .cache.tmp .cache/build.log
else
  rm -rf .cache.tmp .cache/berth.js
  echo "berth: could not build the start-up cache (bin/berth will run the sources; see .cache/build.log)" >&2
fi

#!/usr/bin/env bash
# Fails when src/gen is not what `npm run generate` makes from proto/: generated
# code is committed, so a proto change without regeneration must not pass CI.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
npx buf generate -o "$out"
bash scripts/generate-descriptors.sh "$out/src/gen"
if ! diff -r "$out/src/gen" src/gen >/dev/null; then
  diff -r "$out/src/gen" src/gen | head -40 >&2 || true
  echo "src/gen is stale: run 'npm run generate' and commit the result" >&2
  exit 1
fi
echo "generated code is up to date"

#!/usr/bin/env bash
# Fails when the v1 contract would break its callers: `buf breaking` (the FILE
# rules of buf.yaml: wire, JSON and generated-code compatibility) of proto/
# against the committed baseline in proto-baseline/. Additive changes pass.
#
#   scripts/check-contract.sh [DIR]      # check DIR (default proto/) against the baseline
#   scripts/check-contract.sh --accept   # make the current proto/ the baseline (a deliberate break)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--accept" ]]; then
  rm -rf proto-baseline
  mkdir proto-baseline
  cp -R proto/. proto-baseline/
  echo "proto-baseline/ is now proto/: commit it, and say in the commit which break was deliberate and why"
  exit 0
fi

input="${1:-proto}"
if ! npx buf breaking "$input" --against proto-baseline; then
  cat >&2 <<'MSG'
The change above breaks mfa.v1 for the services that call it (see README "The contract").
Make it additive instead (new fields, messages, RPCs and enum values are fine); or, when
the break is deliberate and every caller is ready, move the baseline: npm run contract:accept
MSG
  exit 1
fi
echo "proto/ is compatible with the v1 baseline"

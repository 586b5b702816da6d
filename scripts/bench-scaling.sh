#!/usr/bin/env bash
# The scaling table of docs/benchmark.md ("At any number of users"): verify_totp
# and check_device, each beside its store floor, on FerretDB on PostgreSQL at
# 3,000, 30,000 and 100,000 users with MFA on, one bench run per size, one after
# the other. Each size is 3,000 users enrolled through the service plus the rest
# seeded straight into the store (--seed), two rounds of 5 s windows. 3,000
# enrolled: about what verify_totp's window spends at this machine's rates
# (each user logs in once per 30 s step), so that its sizing adds few users.
#
#   scripts/bench-scaling.sh                # all three sizes (about 15 minutes on a quiet machine)
#   scripts/bench-scaling.sh 3000           # only the sizes given
#
# Each size's report goes to bench-results/scaling/users-N.md (the tables),
# .json (the same as JSON) and .log (the bench's progress lines); bench-results/
# is git-ignored. A size that fails stops the script.
set -euo pipefail
cd "$(dirname "$0")/.."

ENROLLED=3000
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(3000 30000 100000)
out=bench-results/scaling
mkdir -p "$out"

for size in "${sizes[@]}"; do
  if ! [[ "$size" =~ ^[0-9]+$ ]] || ((size < ENROLLED)); then
    echo "bench-scaling: a size is a whole number of users >= $ENROLLED, got \"$size\"" >&2
    exit 2
  fi
  began=$SECONDS
  echo "bench-scaling: $size users -> $out/users-$size.md" >&2
  npm run --silent bench -- --stores ferretdb-postgres --scenarios verify_totp,check_device \
    --users "$ENROLLED" --seed "$((size - ENROLLED))" --rounds 2 --duration 5 --warmup 2 --pending 10 \
    --json "$out/users-$size.json" \
    > "$out/users-$size.md" 2> >(tee "$out/users-$size.log" >&2)
  echo "bench-scaling: $size users done in $((SECONDS - began)) s" | tee -a "$out/users-$size.log" >&2
done

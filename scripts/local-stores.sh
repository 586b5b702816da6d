#!/usr/bin/env bash
# `npm run stores`: the real stores on this machine, for running the service
# against Redis and a MongoDB-compatible server without Docker. Starts
# redis-server (from PATH) and FerretDB 1.24 (MongoDB wire protocol; built
# once into .tools/bin by scripts/ensure-tool.sh), keeps their data in the
# git-ignored .stores/, writes the settings to .stores/env, and stops both on
# Ctrl-C. In another terminal: `source .stores/env && npm start`.
#
# FerretDB keeps its data in SQLite unless FERRETDB_POSTGRESQL_URL names a
# PostgreSQL database (its own setting), which is much faster under load:
#   createdb -h 127.0.0.1 -U postgres mfa_local
#   FERRETDB_POSTGRESQL_URL=postgres://postgres@127.0.0.1:5432/mfa_local npm run stores
# On PostgreSQL it also runs scripts/ferretdb-postgres-indexes.sh every 10 s
# (needs psql), so the `_id` index FerretDB cannot create itself is there on
# each collection soon after the service creates it (docs/operations.md).
#
# Settings: STORES_REDIS_PORT (6380), STORES_MONGO_PORT (27018), STORES_DIR (.stores).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${STORES_DIR:-$root/.stores}"
redis_port="${STORES_REDIS_PORT:-6380}"
mongo_port="${STORES_MONGO_PORT:-27018}"

fail() {
  echo "stores: $*" >&2
  exit 1
}

redis_server="$(command -v redis-server)" || fail "redis-server not found on PATH (Debian: apt-get install redis-server)"
ferretdb="$("$root/scripts/ensure-tool.sh" ferretdb)" || fail "FerretDB could not be built (scripts/ensure-tool.sh ferretdb needs Go 1.22+)"

# A port someone else listens on would make the service talk to the wrong server.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$redis_port" "$mongo_port"; do
  if listening "$port"; then
    fail "port $port is already in use; pick others: STORES_REDIS_PORT=6390 STORES_MONGO_PORT=27028 npm run stores"
  fi
done

mkdir -p "$dir/redis" "$dir/ferretdb/sqlite"
chmod 700 "$dir"
# One key for the lifetime of the data: secrets sealed with it must still open after a restart.
if [[ ! -s "$dir/encryption-key" ]]; then
  (umask 077 && node -e "process.stdout.write('local:' + require('node:crypto').randomBytes(32).toString('base64'))" >"$dir/encryption-key")
fi

pids=()
stop() {
  trap - INT TERM EXIT
  [[ ${#pids[@]} -gt 0 ]] && kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  echo "stores: stopped (data kept in $dir)" >&2
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

# Pending enrollments, lockout counters and the revocation cache are short-lived: no Redis persistence.
"$redis_server" --port "$redis_port" --bind 127.0.0.1 --dir "$dir/redis" --save '' --appendonly no >"$dir/redis.log" 2>&1 &
pids+=($!)

ferret_args=(--listen-addr="127.0.0.1:$mongo_port" --state-dir="$dir/ferretdb" --telemetry=disable --debug-addr=- --log-level=warn)
if [[ -n "${FERRETDB_POSTGRESQL_URL:-}" ]]; then
  backend="PostgreSQL"
  ferret_args+=(--handler=postgresql) # reads FERRETDB_POSTGRESQL_URL itself: a password stays off the command line
else
  backend="SQLite in $dir/ferretdb/sqlite"
  ferret_args+=(--handler=sqlite --sqlite-url="file:$dir/ferretdb/sqlite/")
fi
"$ferretdb" "${ferret_args[@]}" >"$dir/ferretdb.log" 2>&1 &
pids+=($!)

for attempt in $(seq 1 100); do
  if listening "$redis_port" && listening "$mongo_port"; then break; fi
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || fail "a store exited at start-up; see $dir/redis.log and $dir/ferretdb.log:
$(tail -n 5 "$dir/redis.log" "$dir/ferretdb.log")"
  done
  [[ $attempt -lt 100 ]] || fail "the stores did not listen within 20 s; see $dir/redis.log and $dir/ferretdb.log"
  sleep 0.2
done

if [[ -n "${FERRETDB_POSTGRESQL_URL:-}" ]]; then
  if command -v psql >/dev/null; then
    # The service creates its collections at its start, which comes later: look again every 10 s (a metadata read when nothing is new).
    (while true; do
      QUIET=1 "$root/scripts/ferretdb-postgres-indexes.sh" "$FERRETDB_POSTGRESQL_URL" || true
      sleep 10
    done) >>"$dir/ferretdb-indexes.log" 2>&1 &
    pids+=($!)
  else
    echo "stores: psql not found: FerretDB's tables get no _id index and every call by _id scans (Debian: apt-get install postgresql-client)" >&2
  fi
fi

cat >"$dir/env" <<EOF
export REDIS_URL=redis://127.0.0.1:$redis_port
export MONGO_URL=mongodb://127.0.0.1:$mongo_port/
export MONGO_DB=mfa
export MFA_ENCRYPTION_KEYS=$(<"$dir/encryption-key")
EOF
chmod 600 "$dir/env"

cat <<EOF
Redis on 127.0.0.1:$redis_port, FerretDB on 127.0.0.1:$mongo_port ($backend).
The settings for the service, also in $dir/env:

$(<"$dir/env")

In another terminal: source $dir/env && npm start
Ctrl-C stops both; the data stays in $dir (delete it to start afresh).
EOF

# Until Ctrl-C, or until one of them dies (then stop the other: half a stack is no use).
wait -n "${pids[@]}" || true
fail "a store stopped by itself; see $dir/redis.log and $dir/ferretdb.log"

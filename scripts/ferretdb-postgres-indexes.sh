#!/usr/bin/env bash
# Creates the index FerretDB 1.24 cannot create itself, on every collection it
# keeps in the PostgreSQL database at POSTGRES_URL (docs/operations.md, "FerretDB
# on PostgreSQL"): a GIN index on each table's `_jsonb->'_id'`.
#
# FerretDB sends a find or update by _id to PostgreSQL as `_jsonb->$1 @> $2`.
# Its own unique index is a btree on `(_jsonb->'_id')`, which containment
# cannot use, so without this index every such call reads the whole table.
# `jsonb_path_ops` serves `@>`; `fastupdate = off` keeps every search off GIN's
# pending list, which only VACUUM (or a full list) would merge.
#
# The tables are found in FerretDB's own metadata (`_ferretdb_database_metadata`
# in each database's schema), never by guessing the names' hashes, so every
# collection the service has created is covered, whoever added it. A table
# exists only once FerretDB created its collection: run this after the
# service's first start, and again after an upgrade that adds a collection.
#
# It also sets `plan_cache_mode = force_custom_plan` on the database. FerretDB
# sends prepared statements; after five runs PostgreSQL may switch one to a
# generic plan, in which the key `$1` is unknown, so the index cannot serve it:
# chosen while a table was small, such a plan stays (until the table is
# ANALYZEd) and reads the whole table on every call as it grows. Custom plans
# are planned per call, which they are anyway while they win. It applies to
# FerretDB's new connections: after the first run, restart FerretDB once.
# Setting it needs the database's owner; without that the script warns and
# still creates the indexes.
#
# Idempotent, and safe while the service runs: CREATE INDEX CONCURRENTLY takes
# no lock that blocks writes. An index left invalid by an interrupted build is
# dropped and built again. Needs only psql (Debian: postgresql-client).
#
#   scripts/ferretdb-postgres-indexes.sh postgres://user@host:5432/ferretdb [DATABASE]
#
# DATABASE (a MongoDB database name, e.g. MONGO_DB) limits it to that database's
# collections; by default it covers every FerretDB database in POSTGRES_URL.
#
# Prints one line per index it creates; QUIET=1 prints nothing.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 || "$1" != postgres*://* ]]; then
  echo "usage: $0 POSTGRES_URL [DATABASE]   (POSTGRES_URL: what FerretDB's FERRETDB_POSTGRESQL_URL names)" >&2
  exit 2
fi
command -v psql >/dev/null || { echo "$0: psql not found (Debian: apt-get install postgresql-client)" >&2; exit 1; }

# \gexec runs each generated statement on its own (autocommit): CONCURRENTLY refuses a transaction block.
output="$(psql "$1" --set=only="${2:-}" --no-psqlrc --quiet --set=ON_ERROR_STOP=1 --tuples-only --no-align <<'SQL'
SET client_min_messages = warning;
-- Every table FerretDB's metadata names, in every schema (one per MongoDB database) that has that metadata.
CREATE FUNCTION pg_temp.ferretdb_tables() RETURNS TABLE (schema_name text, table_name text, index_name text) AS $$
DECLARE
  meta record;
BEGIN
  FOR meta IN SELECT c.relnamespace::regnamespace::text AS nsp, n.nspname AS raw
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE c.relname = '_ferretdb_database_metadata' AND c.relkind = 'r' LOOP
    RETURN QUERY EXECUTE format(
      $q$SELECT %L::text, t.relname::text, left(t.relname, 50) || '_id_gin'
         FROM %s._ferretdb_database_metadata m
         JOIN pg_class t ON t.relname = m._jsonb->>'table' AND t.relkind = 'r'
         JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = %L$q$,
      meta.raw, meta.nsp, meta.raw);
  END LOOP;
END
$$ LANGUAGE plpgsql;

CREATE TEMP VIEW wanted AS SELECT * FROM pg_temp.ferretdb_tables() WHERE :'only' = '' OR schema_name = :'only';

-- A concurrent build that was interrupted leaves an invalid index, which IF NOT EXISTS would keep.
SELECT format('DROP INDEX CONCURRENTLY IF EXISTS %I.%I', f.schema_name, f.index_name)
FROM wanted f
JOIN pg_namespace n ON n.nspname = f.schema_name
JOIN pg_class i ON i.relnamespace = n.oid AND i.relname = f.index_name
JOIN pg_index x ON x.indexrelid = i.oid AND NOT x.indisvalid
\gexec

SELECT 'created ' || f.schema_name || '.' || f.index_name
FROM wanted f
WHERE to_regclass(format('%I.%I', f.schema_name, f.index_name)) IS NULL;

SELECT format($q$CREATE INDEX CONCURRENTLY IF NOT EXISTS %I ON %I.%I USING gin ((_jsonb->'_id') jsonb_path_ops) WITH (fastupdate = off)$q$,
              f.index_name, f.schema_name, f.table_name)
FROM wanted f
\gexec

-- After the indexes: it needs the database's owner, and a role that may only index FerretDB's tables
-- still gets those. The database's own setting is read (a role's or the server's may differ).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
                 WHERE d.datname = current_database() AND s.setrole = 0
                   AND 'plan_cache_mode=force_custom_plan' = ANY (s.setconfig)) THEN
    EXECUTE format('ALTER DATABASE %I SET plan_cache_mode = force_custom_plan', current_database());
  END IF;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE WARNING 'plan_cache_mode not set: only the owner of database % may set it (docs/operations.md, "FerretDB on PostgreSQL")', current_database();
END
$$;
SQL
)"
[[ "${QUIET:-}" == 1 || -z "$output" ]] || echo "$output"

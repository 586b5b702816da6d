import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../scripts/ferretdb-postgres-indexes.sh');

/**
 * Runs scripts/ferretdb-postgres-indexes.sh: the GIN index on `_id` that
 * FerretDB 1.24 does not create, on every collection FerretDB has created so
 * far in `database` (a MongoDB database name), or in every database. Call it
 * after the service's first writes, since a table exists only from then on.
 */
export async function createFerretDbPostgresIndexes(postgresUrl: string, database?: string): Promise<void> {
  const args = database === undefined ? [postgresUrl] : [postgresUrl, database];
  await promisify(execFile)(SCRIPT, args, { env: { ...process.env, QUIET: '1' }, timeout: 120_000 });
}

/**
 * Postgres access. Each module owns a schema (catalog, cart, ...) and creates it on start;
 * in the monolith the schemas share one database, in the microservices each service has a
 * database (a Postgres container) of its own. Several replicas may start at once, so the
 * schema is created under an advisory lock.
 */
import pg from 'pg';
import { HttpError } from './errors';

export type Db = pg.Pool;

export function connect(url: string, max = 5): Db {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5000,
  });
  // An idle connection that breaks (the database restarted) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

export type Statement = string | { sql: string; params: unknown[] };

/** Runs `statements` once per database, whatever the number of replicas starting together. */
export async function migrate(db: Db, schema: string, statements: Statement[]): Promise<void> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    for (const s of statements)
      await (typeof s === 'string' ? client.query(s) : client.query(s.sql, s.params));
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Runs `work` in a transaction. */
export async function transaction<T>(db: Db, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * The reply for a database that cannot take the request (every connection busy, or the
 * database gone): 503 with what happened, rather than an anonymous 500.
 */
export function databaseUnavailable(err: unknown): HttpError | undefined {
  const message = (err as Error | undefined)?.message ?? '';
  if (/timeout exceeded when trying to connect/.test(message))
    return new HttpError(503, 'database-busy', 'the database has no free connection: try again');
  const code = (err as { code?: string } | undefined)?.code;
  if (code === 'ECONNREFUSED' || code === '57P01' || /Connection terminated/.test(message))
    return new HttpError(503, 'database-unavailable', 'the database does not answer: try again');
  return undefined;
}

// A throw-away PostgreSQL database for a test, on the server at
// 127.0.0.1:5432 (trust authentication for user postgres, or PGTEST_URL
// naming another server of the loopback). Each call creates a uniquely named
// database and drop() removes it.
import { randomBytes } from "node:crypto";
import pg from "pg";

const ADMIN_URL = process.env.PGTEST_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

// Returns the new database, or undefined after printing why the calling test
// is skipped.
export async function createTestDatabase(label: string): Promise<TestDatabase | undefined> {
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (error) {
    console.log(`  skipped: PostgreSQL at ${ADMIN_URL.replace(/:[^:@/]*@/, ":***@")} is not reachable (${(error as Error).message}); start it or set PGTEST_URL`);
    return undefined;
  }
  const name = `fieldsense_${label}_${process.pid}_${randomBytes(4).toString("hex")}`;
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

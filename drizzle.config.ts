import { defineConfig } from 'drizzle-kit';

// Migrations are generated from core's schema and committed; the same files run on PostgreSQL and PGlite.
export default defineConfig({
  dialect: 'postgresql',
  schema: './packages/core/src/db/schema/index.ts',
  out: './migrations',
});

-- Hand-written: drizzle-kit cannot express a column's compression method.

-- The cached resources are compressed with lz4 instead of pglz: pglz cost PostgreSQL about 70 ms per 1,000
-- resources of a sync, half of its share (issue #3, docs/benchmarks.md); lz4 reads back faster too. Existing
-- values keep pglz until rewritten. Builds without lz4 (PGlite among them) keep pglz.
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
    ALTER TABLE "fhir_resource" ALTER COLUMN "resource" SET COMPRESSION lz4;
  END IF;
END
$$;

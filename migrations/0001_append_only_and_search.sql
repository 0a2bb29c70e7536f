-- Hand-written: what drizzle-kit cannot express.

-- Subject search ("text in subject") needs a trigram index so ILIKE '%…%' stays fast at 100k+ tickets.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "ticket_subject_trgm_idx" ON "ticket" USING gin ("subject" gin_trgm_ops);
--> statement-breakpoint

-- The timeline is append-only (DESIGN §3, HIPAA-08): no UPDATE, no DELETE.
CREATE OR REPLACE FUNCTION fhirdesk_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER ticket_event_append_only BEFORE UPDATE OR DELETE ON "ticket_event"
  FOR EACH ROW EXECUTE FUNCTION fhirdesk_refuse_change();
--> statement-breakpoint

-- The audit log is append-only too; the only allowed UPDATE seals a not-yet-sealed row into the
-- tenant's hash chain, touching nothing but the chain columns (ONC-01, ONC-02).
CREATE OR REPLACE FUNCTION fhirdesk_audit_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF OLD.hash IS NOT NULL
     OR (to_jsonb(NEW) - 'chain_pos' - 'prev_hash' - 'hash') <> (to_jsonb(OLD) - 'chain_pos' - 'prev_hash' - 'hash') THEN
    RAISE EXCEPTION 'audit_event rows cannot be changed once written' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON "audit_event"
  FOR EACH ROW EXECUTE FUNCTION fhirdesk_audit_guard();

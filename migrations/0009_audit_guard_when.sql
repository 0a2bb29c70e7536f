-- Hand-written: drizzle-kit does not manage triggers.

-- The audit log's guard, same rule as 0001 (ONC-01): DELETE is refused, and the only UPDATE allowed seals a
-- not-yet-sealed row, touching nothing but chain_pos, prev_hash and hash. 0001 checked that rule in PL/pgSQL
-- by comparing to_jsonb(NEW) with to_jsonb(OLD) for every row, ~25 us a row: a quarter of the seal's cost in
-- PostgreSQL, and the seal of a quarter second's reads stalled agent views running beside it (issue #4,
-- docs/benchmarks.md). The rule now sits in the trigger's WHEN clause, which PostgreSQL evaluates without
-- calling a function; the function only runs to refuse. Every column but the three chain columns is listed;
-- test/db/audit-chain.test.ts changes each column of the table in turn, so a column added later and not
-- listed here fails that test.
CREATE OR REPLACE FUNCTION fhirdesk_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RAISE EXCEPTION 'audit_event rows cannot be changed once written' USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
DROP TRIGGER IF EXISTS audit_event_append_only ON "audit_event";
--> statement-breakpoint
CREATE TRIGGER audit_event_append_only BEFORE DELETE ON "audit_event"
  FOR EACH ROW EXECUTE FUNCTION fhirdesk_audit_refuse();
--> statement-breakpoint
CREATE TRIGGER audit_event_seal_only BEFORE UPDATE ON "audit_event"
  FOR EACH ROW
  WHEN (
    OLD.hash IS NOT NULL
    OR NEW.id IS DISTINCT FROM OLD.id
    OR NEW.seq IS DISTINCT FROM OLD.seq
    OR NEW.tenant_id IS DISTINCT FROM OLD.tenant_id
    OR NEW.occurred_at IS DISTINCT FROM OLD.occurred_at
    OR NEW.actor_id IS DISTINCT FROM OLD.actor_id
    OR NEW.actor_kind IS DISTINCT FROM OLD.actor_kind
    OR NEW.actor_label IS DISTINCT FROM OLD.actor_label
    OR NEW.action IS DISTINCT FROM OLD.action
    OR NEW.entity_type IS DISTINCT FROM OLD.entity_type
    OR NEW.entity_id IS DISTINCT FROM OLD.entity_id
    OR NEW.patient_ref IS DISTINCT FROM OLD.patient_ref
    OR NEW.outcome IS DISTINCT FROM OLD.outcome
    OR NEW.purpose IS DISTINCT FROM OLD.purpose
    OR NEW.request_id IS DISTINCT FROM OLD.request_id
    OR NEW.detail IS DISTINCT FROM OLD.detail
  )
  EXECUTE FUNCTION fhirdesk_audit_refuse();
--> statement-breakpoint
DROP FUNCTION IF EXISTS fhirdesk_audit_guard();

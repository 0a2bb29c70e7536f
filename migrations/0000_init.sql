CREATE TABLE "audit_event" (
	"id" uuid PRIMARY KEY NOT NULL,
	"seq" bigserial NOT NULL,
	"tenant_id" uuid NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"actor_id" uuid,
	"actor_kind" text NOT NULL,
	"actor_label" text,
	"action" text NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" text,
	"patient_ref" text,
	"outcome" text NOT NULL,
	"purpose" text,
	"request_id" text,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"chain_pos" bigint,
	"prev_hash" text,
	"hash" text,
	CONSTRAINT "audit_event_chain_uq" UNIQUE("tenant_id","chain_pos"),
	CONSTRAINT "audit_event_actor_ck" CHECK (actor_kind IN ('user', 'system', 'integration')),
	CONSTRAINT "audit_event_outcome_ck" CHECK (outcome IN ('success', 'failure', 'denied'))
);
--> statement-breakpoint
CREATE TABLE "audit_head" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"chain_pos" bigint DEFAULT 0 NOT NULL,
	"hash" text NOT NULL,
	"sealed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "fhir_resource" (
	"tenant_id" uuid NOT NULL,
	"source_id" uuid NOT NULL,
	"resource_type" text NOT NULL,
	"resource_id" text NOT NULL,
	"version_id" text,
	"last_updated" text,
	"last_updated_at" timestamp with time zone,
	"patient_id" text,
	"resource" jsonb NOT NULL,
	"content_hash" text NOT NULL,
	"fetched_at" timestamp with time zone NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "fhir_resource_pk" PRIMARY KEY("tenant_id","source_id","resource_type","resource_id")
);
--> statement-breakpoint
CREATE TABLE "source" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"base_url" text,
	"auth" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"secret" text,
	"resource_types" text[] DEFAULT '{}'::text[] NOT NULL,
	"sync_mode" text DEFAULT 'incremental' NOT NULL,
	"schedule" text,
	"rate_limit" integer,
	"concurrency" integer DEFAULT 2 NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sync_checkpoint" (
	"tenant_id" uuid NOT NULL,
	"source_id" uuid NOT NULL,
	"scope" text NOT NULL,
	"since" text,
	"pass_started_at" text,
	"cursor" text,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "sync_checkpoint_pk" PRIMARY KEY("tenant_id","source_id","scope")
);
--> statement-breakpoint
CREATE TABLE "sync_dead_letter" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"source_id" uuid NOT NULL,
	"run_id" uuid,
	"resource_type" text,
	"resource_id" text,
	"reason" text NOT NULL,
	"page_url" text,
	"payload" jsonb,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sync_run" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"source_id" uuid NOT NULL,
	"mode" text NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone,
	"heartbeat_at" timestamp with time zone NOT NULL,
	"fetched" integer DEFAULT 0 NOT NULL,
	"inserted" integer DEFAULT 0 NOT NULL,
	"updated" integer DEFAULT 0 NOT NULL,
	"unchanged" integer DEFAULT 0 NOT NULL,
	"dead_lettered" integer DEFAULT 0 NOT NULL,
	"deleted" integer DEFAULT 0 NOT NULL,
	"pages" integer DEFAULT 0 NOT NULL,
	"retries" integer DEFAULT 0 NOT NULL,
	"error" text,
	"warnings" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"patient_id" text,
	CONSTRAINT "sync_run_mode_ck" CHECK (mode IN ('incremental', 'patient', 'bulk')),
	CONSTRAINT "sync_run_status_ck" CHECK (status IN ('running', 'succeeded', 'failed', 'aborted'))
);
--> statement-breakpoint
CREATE TABLE "app_user" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"display_name" text NOT NULL,
	"roles" text[] DEFAULT '{}'::text[] NOT NULL,
	"fhir_user" text,
	"issuer" text,
	"subject" text,
	"languages" text[] DEFAULT '{}'::text[] NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "app_user_identity_uq" UNIQUE("tenant_id","issuer","subject"),
	CONSTRAINT "app_user_roles_ck" CHECK (roles <@ ARRAY['agent', 'billing', 'supervisor', 'admin', 'integration']::text[])
);
--> statement-breakpoint
CREATE TABLE "tenant" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tenant_slug_unique" UNIQUE("slug")
);
--> statement-breakpoint
CREATE TABLE "ticket_counter" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"next_number" integer DEFAULT 1001 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ticket" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"number" integer NOT NULL,
	"subject" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"category" text NOT NULL,
	"channel" text NOT NULL,
	"status" text DEFAULT 'new' NOT NULL,
	"priority" text DEFAULT 'normal' NOT NULL,
	"queue" text DEFAULT 'general' NOT NULL,
	"assignee_id" uuid,
	"patient_ref" text,
	"patient_source_id" uuid,
	"language" text,
	"created_by" uuid,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"first_response_at" timestamp with time zone,
	"resolved_at" timestamp with time zone,
	"closed_at" timestamp with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "ticket_number_uq" UNIQUE("tenant_id","number"),
	CONSTRAINT "ticket_category_ck" CHECK (category IN ('billing', 'insurance', 'claim-dispute', 'prescription', 'portal-access', 'care-coordination', 'general-info', 'complaint')),
	CONSTRAINT "ticket_channel_ck" CHECK (channel IN ('phone', 'chat', 'email', 'sms', 'portal', 'in-person')),
	CONSTRAINT "ticket_status_ck" CHECK (status IN ('new', 'open', 'pending-patient', 'pending-payer', 'escalated', 'resolved', 'closed')),
	CONSTRAINT "ticket_priority_ck" CHECK (priority IN ('low', 'normal', 'high', 'urgent'))
);
--> statement-breakpoint
CREATE TABLE "ticket_event" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigserial NOT NULL,
	"tenant_id" uuid NOT NULL,
	"ticket_id" uuid NOT NULL,
	"type" text NOT NULL,
	"actor_id" uuid,
	"actor_kind" text NOT NULL,
	"channel" text,
	"direction" text,
	"body" text,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "ticket_event_type_ck" CHECK (type IN ('created', 'field-changed', 'status-changed', 'assigned', 'message', 'note', 'linked', 'unlinked', 'dispute-stage-changed', 'payer-contact', 'dispute-updated', 'auto-opened', 'reversal-detected', 'triaged', 'red-flag', 'escalated-to-ehr', 'escalation-queued', 'sla-at-risk', 'sla-breached', 'delivery-status', 'csat', 'patient-linked', 'patient-unlinked', 'routing-corrected')),
	CONSTRAINT "ticket_event_actor_ck" CHECK (actor_kind IN ('user', 'system', 'integration')),
	CONSTRAINT "ticket_event_direction_ck" CHECK (direction IS NULL OR direction IN ('inbound', 'outbound'))
);
--> statement-breakpoint
CREATE TABLE "ticket_link" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"ticket_id" uuid NOT NULL,
	"source_id" uuid,
	"resource_type" text NOT NULL,
	"resource_id" text NOT NULL,
	"role" text NOT NULL,
	"seen_version_id" text,
	"seen_last_updated" text,
	"seen_content_hash" text,
	"created_by" uuid,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "ticket_link_uq" UNIQUE NULLS NOT DISTINCT("ticket_id","source_id","resource_type","resource_id","role"),
	CONSTRAINT "ticket_link_type_ck" CHECK (resource_type IN ('Patient', 'Coverage', 'Claim', 'ClaimResponse', 'ExplanationOfBenefit', 'Account'))
);
--> statement-breakpoint
CREATE TABLE "dispute" (
	"ticket_id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"claim_ref" text,
	"adjudication_ref" text,
	"source_id" uuid,
	"payer_claim_number" text,
	"payer_id" text,
	"payer_name" text,
	"disputed_amount_minor" bigint,
	"currency" text DEFAULT 'USD' NOT NULL,
	"reason_category" text NOT NULL,
	"reason_codes" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"stage" text DEFAULT 'intake' NOT NULL,
	"adjudication_date" text,
	"appeal_deadline" timestamp with time zone,
	"appeal_policy" text,
	"outcome" text,
	"recovered_amount_minor" bigint,
	"dedupe_key" text NOT NULL,
	"origin" text DEFAULT 'manual' NOT NULL,
	"reversal_detected_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "dispute_dedupe_uq" UNIQUE("tenant_id","dedupe_key"),
	CONSTRAINT "dispute_subject_ck" CHECK (claim_ref IS NOT NULL OR adjudication_ref IS NOT NULL OR payer_claim_number IS NOT NULL),
	CONSTRAINT "dispute_stage_ck" CHECK (stage IN ('intake', 'investigating', 'payer-contacted', 'appeal-filed', 'decided')),
	CONSTRAINT "dispute_outcome_ck" CHECK (outcome IS NULL OR outcome IN ('overturned', 'partially-overturned', 'upheld', 'withdrawn')),
	CONSTRAINT "dispute_reason_ck" CHECK (reason_category IN ('denied', 'underpaid', 'patient-responsibility-question', 'coordination-of-benefits', 'duplicate', 'eligibility')),
	CONSTRAINT "dispute_origin_ck" CHECK (origin IN ('manual', 'auto')),
	CONSTRAINT "dispute_amount_ck" CHECK (disputed_amount_minor IS NULL OR disputed_amount_minor >= 0)
);
--> statement-breakpoint
CREATE TABLE "escalation" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"ticket_id" uuid NOT NULL,
	"source_id" uuid,
	"status" text NOT NULL,
	"priority" text NOT NULL,
	"task_id" text,
	"communication_id" text,
	"problem" text,
	"attempts" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "escalation_status_ck" CHECK (status IN ('written-back', 'queued'))
);
--> statement-breakpoint
CREATE TABLE "inbound_message" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"channel" text NOT NULL,
	"provider_message_id" text NOT NULL,
	"sender" text NOT NULL,
	"ticket_id" uuid NOT NULL,
	"event_id" uuid NOT NULL,
	"outcome" text NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	CONSTRAINT "inbound_message_provider_uq" UNIQUE("tenant_id","channel","provider_message_id")
);
--> statement-breakpoint
CREATE TABLE "integration_key" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"key_hash" text,
	"hmac_secret" text,
	"channels" text[] DEFAULT '{}'::text[] NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "integration_key_key_hash_unique" UNIQUE("key_hash"),
	CONSTRAINT "integration_key_name_uq" UNIQUE("tenant_id","name"),
	CONSTRAINT "integration_key_channels_ck" CHECK (channels <@ ARRAY['email', 'sms', 'chat', 'portal']::text[])
);
--> statement-breakpoint
CREATE TABLE "sla_notice" (
	"ticket_id" uuid NOT NULL,
	"clock" text NOT NULL,
	"kind" text NOT NULL,
	"tenant_id" uuid NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"raised_at" timestamp with time zone NOT NULL,
	CONSTRAINT "sla_notice_pk" PRIMARY KEY("ticket_id","clock","kind"),
	CONSTRAINT "sla_notice_clock_ck" CHECK (clock IN ('first-response', 'resolution')),
	CONSTRAINT "sla_notice_kind_ck" CHECK (kind IN ('at-risk', 'breached'))
);
--> statement-breakpoint
CREATE TABLE "survey" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"ticket_id" uuid NOT NULL,
	"channel" text NOT NULL,
	"resolution_at" timestamp with time zone NOT NULL,
	"issued_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"rating" integer,
	"nps" integer,
	"comment" text,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "survey_resolution_uq" UNIQUE("ticket_id","resolution_at"),
	CONSTRAINT "survey_rating_ck" CHECK (rating IS NULL OR rating BETWEEN 1 AND 5),
	CONSTRAINT "survey_nps_ck" CHECK (nps IS NULL OR nps BETWEEN 0 AND 10)
);
--> statement-breakpoint
CREATE TABLE "ticket_reply_token" (
	"token" text PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"ticket_id" uuid NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "ticket_reply_token_ticket_id_unique" UNIQUE("ticket_id")
);
--> statement-breakpoint
CREATE TABLE "ticket_sla" (
	"ticket_id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"first_response_due_at" timestamp with time zone,
	"resolution_due_at" timestamp with time zone,
	"paused" boolean DEFAULT false NOT NULL,
	"ticket_version" integer NOT NULL,
	"computed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ticket_triage" (
	"ticket_id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"category" text NOT NULL,
	"queue" text NOT NULL,
	"priority" text NOT NULL,
	"rule_ids" text[] DEFAULT '{}'::text[] NOT NULL,
	"red_flag" boolean DEFAULT false NOT NULL,
	"corrected_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_replay" (
	"key_id" uuid NOT NULL,
	"signature" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "webhook_replay_pk" PRIMARY KEY("key_id","signature")
);
--> statement-breakpoint
ALTER TABLE "audit_event" ADD CONSTRAINT "audit_event_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_head" ADD CONSTRAINT "audit_head_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fhir_resource" ADD CONSTRAINT "fhir_resource_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fhir_resource" ADD CONSTRAINT "fhir_resource_source_id_source_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."source"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "source" ADD CONSTRAINT "source_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_checkpoint" ADD CONSTRAINT "sync_checkpoint_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_checkpoint" ADD CONSTRAINT "sync_checkpoint_source_id_source_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."source"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_dead_letter" ADD CONSTRAINT "sync_dead_letter_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_dead_letter" ADD CONSTRAINT "sync_dead_letter_source_id_source_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."source"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_dead_letter" ADD CONSTRAINT "sync_dead_letter_run_id_sync_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."sync_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_run" ADD CONSTRAINT "sync_run_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_run" ADD CONSTRAINT "sync_run_source_id_source_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."source"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "app_user" ADD CONSTRAINT "app_user_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket_counter" ADD CONSTRAINT "ticket_counter_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket" ADD CONSTRAINT "ticket_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket" ADD CONSTRAINT "ticket_assignee_id_app_user_id_fk" FOREIGN KEY ("assignee_id") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket" ADD CONSTRAINT "ticket_patient_source_id_source_id_fk" FOREIGN KEY ("patient_source_id") REFERENCES "public"."source"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket" ADD CONSTRAINT "ticket_created_by_app_user_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket_event" ADD CONSTRAINT "ticket_event_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket_event" ADD CONSTRAINT "ticket_event_ticket_id_ticket_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."ticket"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket_event" ADD CONSTRAINT "ticket_event_actor_id_app_user_id_fk" FOREIGN KEY ("actor_id") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket_link" ADD CONSTRAINT "ticket_link_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket_link" ADD CONSTRAINT "ticket_link_ticket_id_ticket_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."ticket"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket_link" ADD CONSTRAINT "ticket_link_source_id_source_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."source"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket_link" ADD CONSTRAINT "ticket_link_created_by_app_user_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dispute" ADD CONSTRAINT "dispute_ticket_id_ticket_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."ticket"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dispute" ADD CONSTRAINT "dispute_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dispute" ADD CONSTRAINT "dispute_source_id_source_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."source"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "escalation" ADD CONSTRAINT "escalation_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "escalation" ADD CONSTRAINT "escalation_ticket_id_ticket_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."ticket"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inbound_message" ADD CONSTRAINT "inbound_message_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inbound_message" ADD CONSTRAINT "inbound_message_ticket_id_ticket_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."ticket"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inbound_message" ADD CONSTRAINT "inbound_message_event_id_ticket_event_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."ticket_event"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "integration_key" ADD CONSTRAINT "integration_key_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sla_notice" ADD CONSTRAINT "sla_notice_ticket_id_ticket_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."ticket"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sla_notice" ADD CONSTRAINT "sla_notice_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "survey" ADD CONSTRAINT "survey_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "survey" ADD CONSTRAINT "survey_ticket_id_ticket_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."ticket"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket_reply_token" ADD CONSTRAINT "ticket_reply_token_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket_reply_token" ADD CONSTRAINT "ticket_reply_token_ticket_id_ticket_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."ticket"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket_sla" ADD CONSTRAINT "ticket_sla_ticket_id_ticket_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."ticket"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket_sla" ADD CONSTRAINT "ticket_sla_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket_triage" ADD CONSTRAINT "ticket_triage_ticket_id_ticket_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."ticket"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket_triage" ADD CONSTRAINT "ticket_triage_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_replay" ADD CONSTRAINT "webhook_replay_key_id_integration_key_id_fk" FOREIGN KEY ("key_id") REFERENCES "public"."integration_key"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_event_unsealed_idx" ON "audit_event" USING btree ("tenant_id","seq") WHERE hash IS NULL;--> statement-breakpoint
CREATE INDEX "audit_event_tenant_time_idx" ON "audit_event" USING btree ("tenant_id","occurred_at");--> statement-breakpoint
CREATE INDEX "audit_event_patient_idx" ON "audit_event" USING btree ("tenant_id","patient_ref","occurred_at");--> statement-breakpoint
CREATE INDEX "fhir_resource_patient_idx" ON "fhir_resource" USING btree ("tenant_id","patient_id","resource_type");--> statement-breakpoint
CREATE INDEX "source_tenant_idx" ON "source" USING btree ("tenant_id");--> statement-breakpoint
CREATE INDEX "source_base_url_idx" ON "source" USING btree ("base_url");--> statement-breakpoint
CREATE INDEX "sync_dead_letter_source_idx" ON "sync_dead_letter" USING btree ("tenant_id","source_id","created_at");--> statement-breakpoint
CREATE INDEX "sync_run_source_idx" ON "sync_run" USING btree ("tenant_id","source_id","started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "sync_run_one_running_uq" ON "sync_run" USING btree ("tenant_id","source_id") WHERE status = 'running' AND mode <> 'patient';--> statement-breakpoint
CREATE INDEX "app_user_tenant_idx" ON "app_user" USING btree ("tenant_id");--> statement-breakpoint
CREATE INDEX "ticket_tenant_status_queue_idx" ON "ticket" USING btree ("tenant_id","status","queue","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "ticket_tenant_created_idx" ON "ticket" USING btree ("tenant_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "ticket_tenant_patient_idx" ON "ticket" USING btree ("tenant_id","patient_ref","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "ticket_tenant_assignee_idx" ON "ticket" USING btree ("tenant_id","assignee_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "ticket_event_ticket_idx" ON "ticket_event" USING btree ("ticket_id","seq");--> statement-breakpoint
CREATE INDEX "ticket_link_resource_idx" ON "ticket_link" USING btree ("tenant_id","resource_type","resource_id");--> statement-breakpoint
CREATE INDEX "dispute_queue_deadline_idx" ON "dispute" USING btree ("tenant_id","stage","appeal_deadline","ticket_id");--> statement-breakpoint
CREATE INDEX "dispute_queue_amount_idx" ON "dispute" USING btree ("tenant_id","disputed_amount_minor","ticket_id");--> statement-breakpoint
CREATE INDEX "dispute_claim_idx" ON "dispute" USING btree ("tenant_id","claim_ref");--> statement-breakpoint
CREATE INDEX "dispute_adjudication_idx" ON "dispute" USING btree ("tenant_id","adjudication_ref");--> statement-breakpoint
CREATE INDEX "escalation_tenant_status_idx" ON "escalation" USING btree ("tenant_id","status","created_at");--> statement-breakpoint
CREATE INDEX "inbound_message_sender_idx" ON "inbound_message" USING btree ("tenant_id","sender","received_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "survey_tenant_used_idx" ON "survey" USING btree ("tenant_id","used_at");--> statement-breakpoint
CREATE INDEX "ticket_sla_tenant_due_idx" ON "ticket_sla" USING btree ("tenant_id","resolution_due_at");
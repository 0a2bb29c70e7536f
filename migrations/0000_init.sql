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
	CONSTRAINT "ticket_event_type_ck" CHECK (type IN ('created', 'field-changed', 'status-changed', 'assigned', 'message', 'note', 'linked', 'unlinked')),
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
ALTER TABLE "audit_event" ADD CONSTRAINT "audit_event_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_head" ADD CONSTRAINT "audit_head_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fhir_resource" ADD CONSTRAINT "fhir_resource_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fhir_resource" ADD CONSTRAINT "fhir_resource_source_id_source_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."source"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "source" ADD CONSTRAINT "source_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
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
CREATE INDEX "audit_event_unsealed_idx" ON "audit_event" USING btree ("tenant_id","seq") WHERE hash IS NULL;--> statement-breakpoint
CREATE INDEX "audit_event_tenant_time_idx" ON "audit_event" USING btree ("tenant_id","occurred_at");--> statement-breakpoint
CREATE INDEX "audit_event_patient_idx" ON "audit_event" USING btree ("tenant_id","patient_ref","occurred_at");--> statement-breakpoint
CREATE INDEX "fhir_resource_patient_idx" ON "fhir_resource" USING btree ("tenant_id","patient_id","resource_type");--> statement-breakpoint
CREATE INDEX "source_tenant_idx" ON "source" USING btree ("tenant_id");--> statement-breakpoint
CREATE INDEX "source_base_url_idx" ON "source" USING btree ("base_url");--> statement-breakpoint
CREATE INDEX "app_user_tenant_idx" ON "app_user" USING btree ("tenant_id");--> statement-breakpoint
CREATE INDEX "ticket_tenant_status_queue_idx" ON "ticket" USING btree ("tenant_id","status","queue","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "ticket_tenant_created_idx" ON "ticket" USING btree ("tenant_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "ticket_tenant_patient_idx" ON "ticket" USING btree ("tenant_id","patient_ref","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "ticket_tenant_assignee_idx" ON "ticket" USING btree ("tenant_id","assignee_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "ticket_event_ticket_idx" ON "ticket_event" USING btree ("ticket_id","seq");--> statement-breakpoint
CREATE INDEX "ticket_link_resource_idx" ON "ticket_link" USING btree ("tenant_id","resource_type","resource_id");
CREATE TABLE "agent_skill" (
	"user_id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"queues" text[] DEFAULT '{}'::text[] NOT NULL,
	"available" boolean DEFAULT true NOT NULL,
	"max_open" integer,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "agent_skill_max_open_ck" CHECK (max_open IS NULL OR max_open >= 0)
);
--> statement-breakpoint
CREATE TABLE "queue_policy" (
	"tenant_id" uuid NOT NULL,
	"queue" text NOT NULL,
	"strategy" text DEFAULT 'round-robin' NOT NULL,
	"language_fallback" boolean DEFAULT false NOT NULL,
	"last_user_id" uuid,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "queue_policy_pk" PRIMARY KEY("tenant_id","queue"),
	CONSTRAINT "queue_policy_strategy_ck" CHECK (strategy IN ('round-robin', 'least-loaded', 'manual'))
);
--> statement-breakpoint
ALTER TABLE "ticket_event" DROP CONSTRAINT "ticket_event_type_ck";--> statement-breakpoint
ALTER TABLE "agent_skill" ADD CONSTRAINT "agent_skill_user_id_app_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agent_skill" ADD CONSTRAINT "agent_skill_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "queue_policy" ADD CONSTRAINT "queue_policy_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "agent_skill_tenant_idx" ON "agent_skill" USING btree ("tenant_id");--> statement-breakpoint
ALTER TABLE "ticket_event" ADD CONSTRAINT "ticket_event_type_ck" CHECK (type IN ('created', 'field-changed', 'status-changed', 'assigned', 'message', 'note', 'linked', 'unlinked', 'dispute-stage-changed', 'payer-contact', 'dispute-updated', 'auto-opened', 'reversal-detected', 'triaged', 'red-flag', 'escalated-to-ehr', 'escalation-queued', 'sla-at-risk', 'sla-breached', 'delivery-status', 'csat', 'patient-linked', 'patient-unlinked', 'routing-corrected', 'safety-prompt-acknowledged'));
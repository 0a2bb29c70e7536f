CREATE TABLE "outbound_delivery" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"ticket_id" uuid NOT NULL,
	"event_id" uuid NOT NULL,
	"channel" text NOT NULL,
	"recipient" text,
	"in_reply_to" text,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"last_error" text,
	"provider_message_id" text,
	"sent_at" timestamp with time zone,
	"delivered_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "outbound_delivery_event_id_unique" UNIQUE("event_id"),
	CONSTRAINT "outbound_delivery_provider_uq" UNIQUE("tenant_id","channel","provider_message_id"),
	CONSTRAINT "outbound_delivery_status_ck" CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'failed')),
	CONSTRAINT "outbound_delivery_channel_ck" CHECK (channel IN ('email', 'sms', 'chat', 'portal'))
);
--> statement-breakpoint
CREATE TABLE "ticket_verification" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"ticket_id" uuid NOT NULL,
	"outcome" text NOT NULL,
	"method" text NOT NULL,
	"party" text NOT NULL,
	"patient_ref" text NOT NULL,
	"proxy_ref" text,
	"matched" text[] DEFAULT '{}'::text[] NOT NULL,
	"mismatched" text[] DEFAULT '{}'::text[] NOT NULL,
	"verified_by" uuid,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "ticket_verification_outcome_ck" CHECK (outcome IN ('verified', 'failed')),
	CONSTRAINT "ticket_verification_party_ck" CHECK (party IN ('patient', 'proxy'))
);
--> statement-breakpoint
ALTER TABLE "outbound_delivery" ADD CONSTRAINT "outbound_delivery_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outbound_delivery" ADD CONSTRAINT "outbound_delivery_ticket_id_ticket_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."ticket"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outbound_delivery" ADD CONSTRAINT "outbound_delivery_event_id_ticket_event_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."ticket_event"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket_verification" ADD CONSTRAINT "ticket_verification_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket_verification" ADD CONSTRAINT "ticket_verification_ticket_id_ticket_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."ticket"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ticket_verification" ADD CONSTRAINT "ticket_verification_verified_by_app_user_id_fk" FOREIGN KEY ("verified_by") REFERENCES "public"."app_user"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "outbound_delivery_due_idx" ON "outbound_delivery" USING btree ("next_attempt_at") WHERE status IN ('queued', 'sending');--> statement-breakpoint
CREATE INDEX "outbound_delivery_ticket_idx" ON "outbound_delivery" USING btree ("ticket_id");--> statement-breakpoint
CREATE INDEX "ticket_verification_ticket_idx" ON "ticket_verification" USING btree ("ticket_id","created_at");
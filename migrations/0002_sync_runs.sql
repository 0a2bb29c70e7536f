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
ALTER TABLE "sync_checkpoint" ADD CONSTRAINT "sync_checkpoint_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_checkpoint" ADD CONSTRAINT "sync_checkpoint_source_id_source_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."source"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_dead_letter" ADD CONSTRAINT "sync_dead_letter_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_dead_letter" ADD CONSTRAINT "sync_dead_letter_source_id_source_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."source"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_dead_letter" ADD CONSTRAINT "sync_dead_letter_run_id_sync_run_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."sync_run"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_run" ADD CONSTRAINT "sync_run_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_run" ADD CONSTRAINT "sync_run_source_id_source_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."source"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "sync_dead_letter_source_idx" ON "sync_dead_letter" USING btree ("tenant_id","source_id","created_at");--> statement-breakpoint
CREATE INDEX "sync_run_source_idx" ON "sync_run" USING btree ("tenant_id","source_id","started_at" DESC NULLS LAST);
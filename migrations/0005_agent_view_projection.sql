CREATE TABLE "patient_view_projection" (
	"tenant_id" uuid NOT NULL,
	"source_id" uuid NOT NULL,
	"patient_id" text NOT NULL,
	"watermark" text NOT NULL,
	"built_for" text NOT NULL,
	"patient_json" text NOT NULL,
	"coverages_json" text NOT NULL,
	"claims_billing_json" text NOT NULL,
	"claims_agent_json" text NOT NULL,
	"coverage_count" integer NOT NULL,
	"claim_count" integer NOT NULL,
	"built_at" timestamp with time zone NOT NULL,
	CONSTRAINT "patient_view_projection_pk" PRIMARY KEY("tenant_id","source_id","patient_id")
);
--> statement-breakpoint
ALTER TABLE "patient_view_projection" ADD CONSTRAINT "patient_view_projection_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "patient_view_projection" ADD CONSTRAINT "patient_view_projection_source_id_source_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."source"("id") ON DELETE cascade ON UPDATE no action;
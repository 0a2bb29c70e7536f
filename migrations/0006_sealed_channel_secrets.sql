CREATE TABLE "tenant_secret" (
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"sealed" text NOT NULL,
	"fingerprint" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "tenant_secret_pk" PRIMARY KEY("tenant_id","name"),
	CONSTRAINT "tenant_secret_name_ck" CHECK (name IN ('outbound.email.password', 'outbound.webhook.secret', 'sla.webhook.secret'))
);
--> statement-breakpoint
ALTER TABLE "integration_key" ADD COLUMN "hmac_fingerprint" text;--> statement-breakpoint
ALTER TABLE "integration_key" ADD COLUMN "rotated_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tenant_secret" ADD CONSTRAINT "tenant_secret_tenant_id_tenant_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenant"("id") ON DELETE no action ON UPDATE no action;
// Tenant routing rules as JSON, validated with zod so the API can return precise, PHI-free field
// errors (HIPAA-11: messages describe the rule, never a patient's text).
import { z } from 'zod';
import { linkableResourceTypes, ticketCategories, ticketChannels, ticketPriorities } from '../db/schema/enums';
import { type FieldError, ValidationError } from '../errors';
import { validateTenantRegex } from './safe-regex';

const slug = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9._:-]*$/, 'use lower-case letters, digits, ".", "_", ":" or "-"');

const keyword = z
  .string()
  .trim()
  .min(1, 'keyword must not be empty')
  .max(80, 'keyword is longer than 80 characters')
  .regex(/[\p{L}\p{N}]/u, 'keyword must contain a letter or digit');
const keywordList = z.array(keyword).min(1, 'list must not be empty').max(300);

const regex = z.string().superRefine((source, ctx) => {
  const result = validateTenantRegex(source);
  if (!result.ok) ctx.addIssue({ code: 'custom', message: result.message ?? 'invalid pattern' });
});

export const textConditionSchema = z
  .strictObject({
    /** Matches when at least one keyword occurs (subject + body). */
    any: keywordList.optional(),
    /** Matches when every keyword occurs. */
    all: keywordList.optional(),
    /** Fails when any of these occurs (e.g. `chest x-ray` in a chest-pain rule). */
    none: keywordList.optional(),
    /** Case-insensitive Unicode regex over the raw text, limited in length and time. */
    regex: regex.optional(),
  })
  .refine((t) => t.any || t.all || t.regex || t.none, { message: 'give at least one of any, all, none or regex' });

export const ruleConditionSchema = z.strictObject({
  channels: z.array(z.enum(ticketChannels)).min(1).optional(),
  text: textConditionSchema.optional(),
  /** Language detected in the message. */
  messageLanguages: z
    .array(z.enum(['en', 'es', 'und']))
    .min(1)
    .optional(),
  patient: z
    .strictObject({
      /** BCP 47 primary tags, matched on the primary subtag (`es` matches `es-MX`). */
      languages: z.array(z.string().min(2).max(35)).min(1).optional(),
      /** Payer names or identifiers of the patient's coverages, compared case- and accent-insensitively. */
      payers: z.array(z.string().min(1).max(200)).min(1).optional(),
    })
    .optional(),
  /** Matches when the ticket links at least one resource of these types. */
  linkedResourceTypes: z.array(z.enum(linkableResourceTypes)).min(1).optional(),
});

export const ruleActionSchema = z
  .strictObject({
    category: z.enum(ticketCategories).optional(),
    queue: slug.optional(),
    priority: z.enum(ticketPriorities).optional(),
    language: z.string().min(2).max(35).optional(),
    assignee: z.string().min(1).max(200).optional(),
    team: slug.optional(),
  })
  .refine((a) => Object.values(a).some((v) => v !== undefined), { message: 'a rule must set at least one field' });

export const routingRuleSchema = z.strictObject({
  id: slug,
  description: z.string().max(500).optional(),
  enabled: z.boolean().default(true),
  when: ruleConditionSchema,
  set: ruleActionSchema,
  /**
   * false (default): first match — evaluation stops after this rule. true: apply and keep going;
   * later rules only fill fields still unset (earlier rules keep precedence).
   */
  continue: z.boolean().default(false),
});

export const routingRuleSetSchema = z
  .array(routingRuleSchema)
  .max(500)
  .superRefine((rules, ctx) => {
    const seen = new Map<string, number>();
    rules.forEach((rule, i) => {
      const first = seen.get(rule.id);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate rule id (first used at index ${first})` });
      } else seen.set(rule.id, i);
    });
  });

export type RoutingRule = z.output<typeof routingRuleSchema>;
export type RoutingRuleInput = z.input<typeof routingRuleSchema>;
export type RuleAction = z.output<typeof ruleActionSchema>;
export type RoutingField = keyof RuleAction;

function toFieldErrors(error: z.ZodError, prefix: string): FieldError[] {
  return error.issues.map((issue) => ({
    field: [prefix, ...issue.path.map(String)].filter(Boolean).join('.'),
    message: issue.message,
  }));
}

/** Parse tenant-supplied rules; throws ValidationError listing every problem with its path. */
export function parseRoutingRules(json: unknown, fieldPrefix = 'rules'): RoutingRule[] {
  const result = routingRuleSetSchema.safeParse(json);
  if (!result.success) {
    throw new ValidationError('routing rules are invalid', toFieldErrors(result.error, fieldPrefix));
  }
  return result.data;
}

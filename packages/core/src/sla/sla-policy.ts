// SLA policies per tenant: first-response and resolution targets in business minutes, chosen by
// ticket category and priority (most specific target wins).
import { z } from 'zod';
import { type TicketCategory, type TicketPriority, ticketCategories, ticketPriorities } from '../db/schema/enums';

export const slaTargetSchema = z
  .strictObject({
    category: z.enum(ticketCategories).optional(),
    priority: z.enum(ticketPriorities).optional(),
    firstResponseMinutes: z.number().int().positive(),
    resolutionMinutes: z.number().int().positive(),
  })
  .refine((t) => t.firstResponseMinutes <= t.resolutionMinutes, {
    message: 'first response target must not exceed the resolution target',
    path: ['firstResponseMinutes'],
  });
export type SlaTarget = z.output<typeof slaTargetSchema>;

export const slaPolicySchema = z
  .strictObject({
    targets: z.array(slaTargetSchema).min(1),
    /** Warn this many wall-clock minutes before a due time (see `slaState`). */
    atRiskMinutes: z.number().int().nonnegative().default(60),
  })
  .superRefine((policy, ctx) => {
    const seen = new Set<string>();
    policy.targets.forEach((t, i) => {
      const key = `${t.category ?? '*'}|${t.priority ?? '*'}`;
      if (seen.has(key))
        ctx.addIssue({ code: 'custom', path: ['targets', i], message: 'duplicate category/priority pair' });
      seen.add(key);
    });
    if (!policy.targets.some((t) => !t.category && !t.priority)) {
      ctx.addIssue({
        code: 'custom',
        path: ['targets'],
        message: 'add a default target with neither category nor priority',
      });
    }
  });
export type SlaPolicy = z.output<typeof slaPolicySchema>;

/**
 * The target for a ticket. Specificity: category+priority, then priority alone, then category
 * alone, then the default, because an urgent ticket must be fast whatever its topic.
 */
export function targetFor(policy: SlaPolicy, category: TicketCategory, priority: TicketPriority): SlaTarget {
  let best: SlaTarget | undefined;
  let bestScore = -1;
  for (const t of policy.targets) {
    if (t.category && t.category !== category) continue;
    if (t.priority && t.priority !== priority) continue;
    const score = (t.category ? 1 : 0) + (t.priority ? 2 : 0);
    if (score > bestScore) {
      best = t;
      bestScore = score;
    }
  }
  if (!best) throw new Error('SLA policy has no default target; validate it with slaPolicySchema');
  return best;
}

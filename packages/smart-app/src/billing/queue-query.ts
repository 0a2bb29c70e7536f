// The billing queue's filters as they live in the URL hash (`#/billing?stage=…`): ids and codes only,
// never names or amounts' owners, so a bookmarked or shared link carries no PHI (HIPAA-11).
import type { DisputeReasonCategory, DisputeStage } from '@fhirdesk/core';

export const STAGES = [
  'intake',
  'investigating',
  'payer-contacted',
  'appeal-filed',
  'decided',
] as const satisfies readonly DisputeStage[];

export const REASONS = [
  'denied',
  'underpaid',
  'patient-responsibility-question',
  'coordination-of-benefits',
  'duplicate',
  'eligibility',
] as const satisfies readonly DisputeReasonCategory[];

/** Deadline windows relative to "now" (computed when the query is sent, so a saved link stays meaningful). */
export const DEADLINE_WINDOWS = ['overdue', '7d', '30d'] as const;
export type DeadlineWindow = (typeof DEADLINE_WINDOWS)[number];

export interface QueueFilters {
  stage?: DisputeStage;
  payer?: string;
  reason?: DisputeReasonCategory;
  due?: DeadlineWindow;
  min?: string;
  max?: string;
  assignee?: string;
  sort: 'deadline' | 'amount';
}

const AMOUNT = /^\d{1,13}(\.\d{1,2})?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Payer ids are codes (e.g. a payer id or `Organization/x`), not free text.
const PAYER = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/;

export function isAmount(value: string): boolean {
  return AMOUNT.test(value);
}

const pick = <T extends string>(values: readonly T[], v: string | null): T | undefined =>
  v !== null && (values as readonly string[]).includes(v) ? (v as T) : undefined;

/** Reads the filters from a hash such as `#/billing?stage=intake&sort=amount`; unknown or bad values are dropped. */
export function parseQueueHash(hash: string): QueueFilters {
  const q = new URLSearchParams(hash.split('?')[1] ?? '');
  const out: QueueFilters = { sort: q.get('sort') === 'amount' ? 'amount' : 'deadline' };
  const stage = pick(STAGES, q.get('stage'));
  if (stage) out.stage = stage;
  const reason = pick(REASONS, q.get('reason'));
  if (reason) out.reason = reason;
  const due = pick(DEADLINE_WINDOWS, q.get('due'));
  if (due) out.due = due;
  const payer = q.get('payer');
  if (payer && PAYER.test(payer)) out.payer = payer;
  const assignee = q.get('assignee');
  if (assignee && UUID.test(assignee)) out.assignee = assignee;
  const min = q.get('min');
  if (min && AMOUNT.test(min)) out.min = min;
  const max = q.get('max');
  if (max && AMOUNT.test(max)) out.max = max;
  return out;
}

/** The hash for these filters; only set values, in a fixed order, so equal filters give equal URLs. */
export function queueHash(f: QueueFilters): string {
  const q = new URLSearchParams();
  if (f.stage) q.set('stage', f.stage);
  if (f.payer) q.set('payer', f.payer);
  if (f.reason) q.set('reason', f.reason);
  if (f.due) q.set('due', f.due);
  if (f.min) q.set('min', f.min);
  if (f.max) q.set('max', f.max);
  if (f.assignee) q.set('assignee', f.assignee);
  if (f.sort !== 'deadline') q.set('sort', f.sort);
  const s = q.toString();
  return s ? `#/billing?${s}` : '#/billing';
}

/** The API query (`GET /api/v1/disputes`, `export.csv`) for these filters at `now`. */
export function apiQuery(f: QueueFilters, now: Date): URLSearchParams {
  const q = new URLSearchParams();
  if (f.stage) q.set('stage', f.stage);
  if (f.payer) q.set('payer', f.payer);
  if (f.reason) q.set('reason', f.reason);
  if (f.assignee) q.set('assignee', f.assignee);
  if (f.min) q.set('amountMin', f.min);
  if (f.max) q.set('amountMax', f.max);
  if (f.due === 'overdue') q.set('deadlineTo', now.toISOString());
  if (f.due === '7d' || f.due === '30d') {
    q.set('deadlineFrom', now.toISOString());
    q.set('deadlineTo', new Date(now.getTime() + (f.due === '7d' ? 7 : 30) * 86_400_000).toISOString());
  }
  q.set('sort', f.sort);
  return q;
}

/** Sessions with these roles see the billing queue (the API enforces the same, HIPAA-01). */
export function canUseBillingQueue(roles: readonly string[]): boolean {
  return roles.includes('billing') || roles.includes('supervisor');
}

/** "12 days left", "due today", "3 days overdue": the words carry the state, not only the colour. */
export function countdown(daysRemaining: number, state: 'ok' | 'due-soon' | 'missed'): string {
  if (state === 'missed' || daysRemaining < 0) {
    const late = Math.abs(daysRemaining);
    return late === 0 ? 'Overdue' : `Overdue by ${late} day${late === 1 ? '' : 's'}`;
  }
  if (daysRemaining === 0) return 'Due today';
  return `${daysRemaining} day${daysRemaining === 1 ? '' : 's'} left`;
}

// Where a reply goes (issue #6): to whoever wrote in on that channel, else, for email and SMS, to the
// linked patient's own contact point in the cached Patient (a ticket opened by phone or by an agent has no
// inbound message to answer). The contact point used is recorded on the delivery and in the audit trail by
// its position (`Patient/<id>#telecom[<n>]`), never by value, and never logged (HIPAA-06, HIPAA-11).
import { and, desc, eq } from 'drizzle-orm';
import type { ContactPoint, Patient } from 'fhir/r4';
import { normaliseEmail, normalisePhone } from '../channels/contact-address';
import type { Executor } from '../db/database';
import { inboundMessage, type OutboundChannel } from '../db/schema/conversations';
import { fhirResource } from '../db/schema/sources';
import { tenant } from '../db/schema/tenants';
import type { Ticket } from '../db/schema/tickets';

export interface ReplyRecipient {
  /** Normalised address (email, E.164 phone, `conversation:<id>`); null when there is none. */
  address: string | null;
  source: 'inbound-message' | 'patient-telecom' | null;
  /** Provider id of the inbound message answered (email In-Reply-To). */
  inReplyTo: string | null;
  /** The Patient contact point used, by position and kind (no value). */
  contactPoint: { reference: string; system: string; use: string | null; rank: number | null } | null;
  /** Why there is no address: safe to show (no values, no identifiers). */
  missing: string | null;
}

/** Channels a Patient.telecom can stand in for; chat and portal replies need their own conversation. */
const TELECOM_SYSTEMS: Partial<Record<OutboundChannel, readonly ContactPoint['system'][]>> = {
  email: ['email'],
  sms: ['sms', 'phone'],
};

const none = (missing: string): ReplyRecipient => ({
  address: null,
  source: null,
  inReplyTo: null,
  contactPoint: null,
  missing,
});

export async function resolveReplyRecipient(
  executor: Executor,
  row: Pick<Ticket, 'id' | 'tenantId' | 'patientRef' | 'patientSourceId'>,
  channel: OutboundChannel,
  now: Date,
): Promise<ReplyRecipient> {
  const [last] = await executor
    .select({ sender: inboundMessage.sender, providerMessageId: inboundMessage.providerMessageId })
    .from(inboundMessage)
    .where(and(eq(inboundMessage.ticketId, row.id), eq(inboundMessage.channel, channel)))
    .orderBy(desc(inboundMessage.receivedAt))
    .limit(1);
  if (last && last.sender !== 'unknown') {
    return {
      address: last.sender,
      source: 'inbound-message',
      inReplyTo: channel === 'email' ? last.providerMessageId : null,
      contactPoint: null,
      missing: null,
    };
  }
  const systems = TELECOM_SYSTEMS[channel];
  const noInbound = `the ticket has no inbound ${channel} message to reply to`;
  if (!systems) return none(`${noInbound}, and ${channel} replies can only answer one`);
  if (!row.patientRef) return none(`${noInbound} and no linked patient whose ${channel} contact could be used`);
  const patientId = row.patientRef.slice('Patient/'.length);
  const cached = await executor
    .select({ sourceId: fhirResource.sourceId, resource: fhirResource.resource })
    .from(fhirResource)
    .where(
      and(
        eq(fhirResource.tenantId, row.tenantId),
        eq(fhirResource.resourceType, 'Patient'),
        eq(fhirResource.resourceId, patientId),
        eq(fhirResource.deleted, false),
      ),
    );
  // The ticket's own source when known; otherwise only an unambiguous copy.
  const chosen = row.patientSourceId
    ? cached.find((c) => c.sourceId === row.patientSourceId)
    : cached.length === 1
      ? cached[0]
      : undefined;
  if (!chosen) return none(`${noInbound} and the linked patient is not in the cache`);
  const [t] = await executor.select({ settings: tenant.settings }).from(tenant).where(eq(tenant.id, row.tenantId));
  const countryCode =
    ((t?.settings?.conversations as { defaultCountryCode?: unknown } | undefined)?.defaultCountryCode as string) ?? '1';
  const picked = pickContactPoint((chosen.resource as unknown as Patient).telecom ?? [], channel, now, countryCode);
  if (!picked) {
    return none(
      `${noInbound} and the linked patient has no current ${systems.join(' or ')} contact point (Patient.telecom)`,
    );
  }
  return {
    address: picked.address,
    source: 'patient-telecom',
    inReplyTo: null,
    contactPoint: {
      reference: `${row.patientRef}#telecom[${picked.index}]`,
      system: picked.point.system!,
      use: picked.point.use ?? null,
      rank: picked.point.rank ?? null,
    },
    missing: null,
  };
}

/**
 * The contact point to use for a channel: of the right system, with a value that normalises, not
 * `use: old` and inside its `period`; SMS prefers `system: sms` or `use: mobile` (a landline cannot take a
 * text), then `rank` (1 = most preferred; unranked after ranked), then the order the EHR published.
 */
export function pickContactPoint(
  telecom: readonly ContactPoint[],
  channel: OutboundChannel,
  now: Date,
  defaultCountryCode = '1',
): { point: ContactPoint; index: number; address: string } | null {
  const systems = TELECOM_SYSTEMS[channel];
  if (!systems) return null;
  const candidates: { point: ContactPoint; index: number; address: string; tier: number }[] = [];
  telecom.forEach((point, index) => {
    if (!systems.includes(point.system) || !point.value || point.use === 'old') return;
    if (!current(point.period, now)) return;
    const address =
      channel === 'email' ? normaliseEmail(point.value) : normalisePhone(point.value, { defaultCountryCode });
    if (!address) return;
    const tier = channel === 'sms' && (point.system === 'sms' || point.use === 'mobile') ? 0 : 1;
    candidates.push({ point, index, address, tier });
  });
  candidates.sort(
    (a, b) =>
      a.tier - b.tier ||
      (a.point.rank ?? Number.POSITIVE_INFINITY) - (b.point.rank ?? Number.POSITIVE_INFINITY) ||
      a.index - b.index,
  );
  const best = candidates[0];
  return best ? { point: best.point, index: best.index, address: best.address } : null;
}

function current(period: ContactPoint['period'], now: Date): boolean {
  if (!period) return true;
  const start = period.start ? Date.parse(period.start) : Number.NaN;
  const end = period.end ? Date.parse(period.end) : Number.NaN;
  if (!Number.isNaN(start) && start > now.getTime()) return false;
  if (!Number.isNaN(end) && end < now.getTime()) return false;
  return true;
}

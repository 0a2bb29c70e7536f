// Caller verification (issue #6): before patient data is shown on a ticket that arrived by phone,
// SMS, email or chat, the agent records how the caller proved who they are. The server compares
// what the caller stated with the cached Patient (or the proxy's RelatedPerson / Patient.contact)
// and records which identifiers matched; every attempt is kept and audited, values never are.
import { and, eq, inArray } from 'drizzle-orm';
import type { Address, ContactPoint, Identifier, Patient, RelatedPerson } from 'fhir/r4';
import { recordAudit } from '../audit/record';
import { normalisePhone } from '../channels/contact-address';
import type { Actor, Clock } from '../context/actor';
import { systemClock } from '../context/actor';
import type { Database, Executor, Tx } from '../db/database';
import { ticketVerification, type VerificationParty } from '../db/schema/conversations';
import type { TicketChannel } from '../db/schema/enums';
import { fhirResource } from '../db/schema/sources';
import { tenant } from '../db/schema/tenants';
import type { Ticket } from '../db/schema/tickets';
import { ConflictError, UnprocessableError } from '../errors';
import { lockTicket } from './timeline';

/**
 * Channels on which the desk cannot know who is writing or calling. Portal messages come from an
 * authenticated patient session and in-person contacts are checked at the desk, so they are exempt.
 */
export const verificationChannels: readonly TicketChannel[] = ['phone', 'sms', 'email', 'chat'];

export type VerificationState = 'required' | 'verified' | 'not-required';

export const verificationIdentifiers = ['birthDate', 'postalCode', 'memberId', 'phone'] as const;
export type VerificationIdentifier = (typeof verificationIdentifiers)[number];

export interface VerificationInput {
  party: VerificationParty;
  /** For a proxy: `RelatedPerson/<id>` or `Patient/<id>#contact[<n>]` of the ticket's patient. */
  proxy?: string | undefined;
  /** What the caller stated; only the names of these fields are ever stored. */
  stated: Partial<Record<VerificationIdentifier, string>>;
}

export interface VerificationResult {
  id: string;
  outcome: 'verified' | 'failed';
  party: VerificationParty;
  proxy: string | null;
  matched: VerificationIdentifier[];
  mismatched: VerificationIdentifier[];
  verifiedAt: string;
}

/** The tenant's minimum of matching identifiers (`settings.verification.minIdentifiers`, default 2). */
export function minIdentifiersOf(settings: Record<string, unknown> | null | undefined): number {
  const raw = (settings?.verification as { minIdentifiers?: unknown } | undefined)?.minIdentifiers;
  return typeof raw === 'number' && Number.isInteger(raw) && raw >= 1 && raw <= 4 ? raw : 2;
}

/**
 * Verification state of tickets, by ticket id (one query for a page of tickets). A verification counts
 * only for the patient it was made against: relinking the ticket to another patient needs a new one.
 */
export async function verificationStates(
  executor: Executor,
  tenantId: string,
  rows: readonly Pick<Ticket, 'id' | 'channel' | 'patientRef'>[],
): Promise<Map<string, VerificationState>> {
  const needing = rows.filter((r) => verificationChannels.includes(r.channel) && r.patientRef).map((r) => r.id);
  const verified = needing.length
    ? await executor
        .selectDistinct({ ticketId: ticketVerification.ticketId, patientRef: ticketVerification.patientRef })
        .from(ticketVerification)
        .where(
          and(
            eq(ticketVerification.tenantId, tenantId),
            eq(ticketVerification.outcome, 'verified'),
            inArray(ticketVerification.ticketId, needing),
          ),
        )
    : [];
  const done = new Set(verified.map((v) => `${v.ticketId} ${v.patientRef}`));
  return new Map(
    rows.map((r) => [
      r.id,
      !verificationChannels.includes(r.channel)
        ? 'not-required'
        : done.has(`${r.id} ${r.patientRef}`)
          ? 'verified'
          : 'required',
    ]),
  );
}

/**
 * A ticket created inside a SMART launch for the launch's own patient: the EHR session already
 * established who the agent is dealing with, so it is recorded as verified (method `ehr-session`).
 */
export async function recordEhrSessionVerification(tx: Tx, actor: Actor, row: Ticket, now: Date): Promise<boolean> {
  if (!actor.patientScope || !actor.userId || row.patientRef !== `Patient/${actor.patientScope}`) return false;
  if (!verificationChannels.includes(row.channel)) return false;
  await saveVerification(tx, actor, {
    tenantId: actor.tenantId,
    ticketId: row.id,
    outcome: 'verified',
    method: 'ehr-session',
    party: 'patient',
    patientRef: row.patientRef,
    matched: [],
    mismatched: [],
    verifiedBy: actor.userId,
    createdAt: now,
  });
  return true;
}

/**
 * Stores a verification attempt with its audit row (HIPAA-06/HIPAA-09): however the caller was verified, by
 * the EHR session or by identifiers, the attempt and its outcome are audited the same way.
 */
async function saveVerification(
  tx: Tx,
  actor: Actor,
  values: typeof ticketVerification.$inferInsert & { createdAt: Date },
  detail: Record<string, unknown> = {},
) {
  const [saved] = await tx.insert(ticketVerification).values(values).returning();
  await recordAudit(
    tx,
    actor,
    {
      action: 'ticket.verification',
      fhirAction: 'E',
      entityType: 'Ticket',
      entityId: values.ticketId,
      patientRef: values.patientRef ?? null,
      outcome: values.outcome === 'verified' ? 'success' : 'failure',
      detail: { status: values.outcome, method: values.method, party: values.party, ...detail },
    },
    values.createdAt,
  );
  return saved!;
}

const digits = (v: string) => v.replace(/\D/g, '');
const postal = (v: string) =>
  v
    .replace(/\s+/g, '')
    .toUpperCase()
    .replace(/^(\d{5})-?\d{4}$/, '$1');

interface Facts {
  birthDate?: string | undefined;
  addresses: Address[];
  telecom: ContactPoint[];
  identifiers: Identifier[];
}

function compare(
  stated: VerificationInput['stated'],
  facts: Facts,
  countryCode: string,
): { matched: VerificationIdentifier[]; mismatched: VerificationIdentifier[] } {
  const matched: VerificationIdentifier[] = [];
  const mismatched: VerificationIdentifier[] = [];
  for (const name of verificationIdentifiers) {
    const value = stated[name]?.trim();
    if (!value) continue;
    let ok = false;
    if (name === 'birthDate') ok = Boolean(facts.birthDate) && facts.birthDate === value;
    if (name === 'postalCode')
      ok = facts.addresses.some((a) => a.postalCode !== undefined && postal(a.postalCode) === postal(value));
    if (name === 'memberId')
      ok = facts.identifiers.some((i) => i.value !== undefined && i.value.trim().toUpperCase() === value.toUpperCase());
    if (name === 'phone') {
      const want = normalisePhone(value, { defaultCountryCode: countryCode });
      ok =
        want !== null &&
        facts.telecom.some(
          (c) =>
            c.system === 'phone' &&
            c.value !== undefined &&
            (normalisePhone(c.value, { defaultCountryCode: countryCode }) === want ||
              digits(c.value) === digits(value)),
        );
    }
    (ok ? matched : mismatched).push(name);
  }
  return { matched, mismatched };
}

export class VerificationService {
  private readonly database: Database;
  private readonly clock: Clock;
  private readonly afterCommit: (actor: Actor) => void;

  constructor(deps: { database: Database; clock?: Clock; afterCommit?: (actor: Actor) => void }) {
    this.database = deps.database;
    this.clock = deps.clock ?? systemClock;
    this.afterCommit = deps.afterCommit ?? (() => {});
  }

  /**
   * Record one verification attempt. A failed attempt is committed (and audited) before the 422
   * that reports it, so repeated guessing stays visible; the error names fields, never values.
   */
  async verify(actor: Actor, ticketId: string, input: VerificationInput): Promise<VerificationResult> {
    const now = new Date(Math.floor(this.clock.now().getTime()));
    const result = await this.database.db.transaction(async (tx) => {
      const row = await lockTicket(tx, actor.tenantId, ticketId);
      if (!row.patientRef) {
        throw new ConflictError(
          'Link the ticket to a patient before verifying the caller',
          {},
          'verification-needs-patient',
        );
      }
      const patientId = row.patientRef.slice('Patient/'.length);
      const [t] = await tx.select({ settings: tenant.settings }).from(tenant).where(eq(tenant.id, actor.tenantId));
      const settings = t?.settings ?? {};
      const countryCode =
        ((settings.conversations as { defaultCountryCode?: unknown } | undefined)?.defaultCountryCode as string) ?? '1';
      const patient = (await this.cached(tx, actor.tenantId, 'Patient', patientId)) as Patient | null;
      if (!patient) throw new ConflictError('The ticket patient is not in the cache', {}, 'patient-not-cached');

      let facts: Facts = {
        birthDate: patient.birthDate,
        addresses: patient.address ?? [],
        telecom: patient.telecom ?? [],
        identifiers: patient.identifier ?? [],
      };
      let proxyRef: string | null = null;
      let proxyListed = true;
      if (input.party === 'proxy') {
        proxyRef = input.proxy ?? null;
        const proxy = proxyRef ? await this.proxyOf(tx, actor.tenantId, patient, proxyRef) : null;
        proxyListed = proxy !== null;
        // A proxy proves the patient's date of birth and member id, and their own phone and address.
        facts = {
          birthDate: patient.birthDate,
          identifiers: patient.identifier ?? [],
          addresses: proxy?.address ?? [],
          telecom: proxy?.telecom ?? [],
        };
      }
      const { matched, mismatched } = proxyListed
        ? compare(input.stated, facts, countryCode)
        : { matched: [], mismatched: [] };
      const needed = minIdentifiersOf(settings);
      const verified = proxyListed && mismatched.length === 0 && matched.length >= needed;
      const saved = await saveVerification(
        tx,
        actor,
        {
          tenantId: actor.tenantId,
          ticketId,
          outcome: verified ? 'verified' : 'failed',
          method: 'identifiers',
          party: input.party,
          patientRef: row.patientRef,
          proxyRef,
          matched,
          mismatched,
          verifiedBy: actor.userId,
          createdAt: now,
        },
        { proxyListed, matched, mismatched, required: needed },
      );
      return {
        result: {
          id: saved.id,
          outcome: saved.outcome,
          party: input.party,
          proxy: proxyRef,
          matched,
          mismatched,
          verifiedAt: now.toISOString(),
        } satisfies VerificationResult,
        proxyListed,
        needed,
      };
    });
    this.afterCommit(actor);
    if (!result.proxyListed) {
      throw new UnprocessableError(
        'The proxy is not listed for this patient (RelatedPerson or Patient.contact)',
        { field: 'proxy' },
        'proxy-not-listed',
      );
    }
    if (result.result.outcome === 'failed') {
      throw new UnprocessableError(
        `The caller could not be verified: ${result.result.mismatched.length ? `did not match: ${result.result.mismatched.join(', ')}; ` : ''}${result.result.matched.length} of ${result.needed} required identifiers matched`,
        { mismatched: result.result.mismatched, matchedCount: result.result.matched.length, required: result.needed },
        'verification-failed',
      );
    }
    return result.result;
  }

  private async cached(tx: Tx, tenantId: string, type: string, id: string): Promise<Record<string, unknown> | null> {
    const [row] = await tx
      .select({ resource: fhirResource.resource })
      .from(fhirResource)
      .where(
        and(
          eq(fhirResource.tenantId, tenantId),
          eq(fhirResource.resourceType, type),
          eq(fhirResource.resourceId, id),
          eq(fhirResource.deleted, false),
        ),
      )
      .limit(1);
    return (row?.resource as Record<string, unknown> | undefined) ?? null;
  }

  /** The proxy, only when the EHR lists it for this patient. */
  private async proxyOf(
    tx: Tx,
    tenantId: string,
    patient: Patient,
    ref: string,
  ): Promise<{ address?: Address[]; telecom?: ContactPoint[] } | null> {
    const contact = /^Patient\/([A-Za-z0-9\-.]{1,64})#contact\[(\d{1,3})\]$/.exec(ref);
    if (contact) {
      if (contact[1] !== patient.id) return null;
      const c = patient.contact?.[Number(contact[2])];
      return c
        ? { ...(c.address ? { address: [c.address] } : {}), ...(c.telecom ? { telecom: c.telecom } : {}) }
        : null;
    }
    const related = /^RelatedPerson\/([A-Za-z0-9\-.]{1,64})$/.exec(ref);
    if (!related) return null;
    const person = (await this.cached(tx, tenantId, 'RelatedPerson', related[1]!)) as RelatedPerson | null;
    if (!person || person.active === false) return null;
    const of = person.patient?.reference ?? '';
    if (of !== `Patient/${patient.id}` && !of.endsWith(`/Patient/${patient.id}`)) return null;
    return {
      ...(person.address ? { address: person.address } : {}),
      ...(person.telecom ? { telecom: person.telecom } : {}),
    };
  }
}

// Reads the agent view from the cache (one indexed query per part, no N+1), refreshes a stale patient
// through an injected refresher, falls back to the cache with a warning when the EHR is down, and audits
// one read per request (HIPAA-06, AUD-02).
import { and, desc, eq, isNull, or, sql } from 'drizzle-orm';
import { recordAudit } from '../audit/record';
import type { Actor, Clock } from '../context/actor';
import { systemClock } from '../context/actor';
import type { Database } from '../db/database';
import { source } from '../db/schema/sources';
import { appUser } from '../db/schema/tenants';
import { ticket } from '../db/schema/tickets';
import { DomainError, ForbiddenError, NotFoundError, UpstreamError } from '../errors';
import type { CodeTables } from '../fhir/adjudication/code-tables';
import { FHIR_ID } from '../fhir/reference';
import { formatTicketNumber } from '../tickets/ticket-number';
import {
  assemblePatientContext,
  type CachedResource,
  type ContextWarning,
  type PatientContext,
  type TicketSummary,
} from './patient-context';
import {
  inReadOrder,
  type PatientCacheState,
  parseCacheStates,
  patientCacheQuery,
  patientCacheState,
  patientViewFastQuery,
  patientViewStatement,
  rebuildPatientView,
  referencedNames,
} from './patient-view-projection';
import { type ContextView, contextViewFor } from './role-shaping';

/**
 * Patient-scoped refresh from the EHR (connectors' `refreshPatient`); throws when the EHR cannot be reached,
 * a NotFoundError (or an error whose `extensions.reason` is `not-found`) when the EHR has no such patient.
 * `signal` aborts when the view stops waiting.
 */
export type RefreshPatient = (
  tenantId: string,
  sourceId: string,
  patientId: string,
  signal?: AbortSignal,
) => Promise<void>;

function isNotFound(error: unknown): boolean {
  return error instanceof NotFoundError || (error instanceof DomainError && error.extensions.reason === 'not-found');
}

export interface PatientContextDeps {
  database: Database;
  clock?: Clock;
  refreshPatient?: RefreshPatient;
  /** Cache older than this is refreshed before answering (default 10 min). */
  maxAgeMs?: number;
  /** A refresh slower than this is abandoned and the cache served as stale (default 5 s). */
  refreshTimeoutMs?: number;
  /** Tickets listed per patient, newest first (default 50). */
  ticketLimit?: number;
  tables?: CodeTables;
  /** Called after the audit row is written (e.g. to schedule sealing). */
  afterAudit?: (actor: Actor) => void;
}

export interface PatientContextQuery {
  /** Source to read from when the same patient id exists in several sources of the tenant. */
  sourceId?: string | undefined;
}

class RefreshTimeout extends Error {}

/** What the shared decision needs to know about the cache, from rows (reference path) or from the state check. */
interface CacheProbe {
  /** The source whose Patient row was fetched most recently (a patient id is only unique within a source). */
  chooseSource(): string | undefined;
  newest(sourceId: string): Date | null;
  hasPatient(sourceId: string): boolean;
}

function rowsProbe(rows: CachedResource[], patientId: string): CacheProbe & { rows: CachedResource[] } {
  return {
    rows,
    chooseSource() {
      let best: CachedResource | undefined;
      for (const r of rows) {
        if (r.resourceType !== 'Patient' || r.resourceId !== patientId) continue;
        if (!best || r.fetchedAt > best.fetchedAt) best = r;
      }
      return best?.sourceId;
    },
    newest: (sourceId) =>
      rows
        .filter((r) => r.sourceId === sourceId)
        .reduce<Date | null>((m, r) => (!m || r.fetchedAt > m ? r.fetchedAt : m), null),
    hasPatient: (sourceId) => rows.some((r) => r.sourceId === sourceId && r.resourceType === 'Patient'),
  };
}

function stateProbe(
  states: PatientCacheState[],
  _patientId: string,
): CacheProbe & { current(sourceId: string): boolean } {
  const of = (sourceId: string) => states.find((s) => s.sourceId === sourceId);
  return {
    chooseSource() {
      let best: PatientCacheState | undefined;
      for (const s of states) {
        if (!s.patientFetchedAt) continue;
        if (!best || s.patientFetchedAt > best.patientFetchedAt!) best = s;
      }
      return best?.sourceId;
    },
    newest: (sourceId) => of(sourceId)?.newest ?? null,
    hasPatient: (sourceId) => Boolean(of(sourceId)?.patientFetchedAt),
    current: (sourceId) => of(sourceId)?.current ?? false,
  };
}

export class PatientContextService {
  private readonly database: Database;
  private readonly clock: Clock;
  private readonly maxAgeMs: number;
  private readonly refreshTimeoutMs: number;
  private readonly ticketLimit: number;
  /** Single-flight: concurrent views of one stale patient share one refresh. */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly deps: PatientContextDeps) {
    this.database = deps.database;
    this.clock = deps.clock ?? systemClock;
    this.maxAgeMs = deps.maxAgeMs ?? 10 * 60_000;
    this.refreshTimeoutMs = deps.refreshTimeoutMs ?? 5_000;
    this.ticketLimit = deps.ticketLimit ?? 50;
  }

  private auditor(actor: Actor, patientId: string) {
    return (outcome: 'success' | 'failure' | 'denied', detail: Record<string, unknown>) =>
      recordAudit(this.database.db, actor, {
        action: 'patient-context.read',
        fhirAction: 'R',
        entityType: 'Patient',
        entityId: patientId,
        patientRef: `Patient/${patientId}`,
        outcome,
        detail,
      }).then(() => this.deps.afterAudit?.(actor));
  }

  private async precheck(actor: Actor, patientId: string): Promise<void> {
    if (!FHIR_ID.test(patientId)) throw new NotFoundError('Patient not found');
    // SAL-50: a session launched for one patient reads only that patient.
    if (actor.patientScope && actor.patientScope !== patientId) {
      await this.auditor(actor, patientId)('denied', { reason: 'patient-scope' });
      throw new ForbiddenError('This session was launched for a different patient; relaunch from the EHR', {
        reason: 'patient-scope',
      });
    }
  }

  /**
   * What both read paths decide before answering: the patient scope, which source to read, whether the cache
   * is stale, the refresh (or the stale warning when it fails), and the 404/502 cases with their audit rows.
   */
  private async resolve<P extends CacheProbe>(
    actor: Actor,
    patientId: string,
    query: PatientContextQuery,
    load: () => Promise<P>,
  ): Promise<{ probe: P; sourceId: string; warnings: ContextWarning[]; refreshed: boolean; now: Date }> {
    const audit = this.auditor(actor, patientId);
    await this.precheck(actor, patientId);

    const now = this.clock.now();
    let probe = await load();
    let sourceId = probe.chooseSource() ?? (await this.fallbackSource(actor.tenantId, query.sourceId));
    const warnings: ContextWarning[] = [];
    let refreshed = false;

    const asOf = sourceId ? probe.newest(sourceId) : null;
    const stale = !asOf || now.getTime() - asOf.getTime() > this.maxAgeMs;
    if (stale && asOf && !this.deps.refreshPatient) {
      warnings.push({
        code: 'stale',
        asOf: asOf.toISOString(),
        message: 'No refresh from the EHR is configured; showing the last copy fetched',
      });
    }
    if (stale && sourceId && this.deps.refreshPatient) {
      try {
        await this.refresh(actor.tenantId, sourceId, patientId);
        refreshed = true;
        probe = await load();
        sourceId = probe.chooseSource() ?? sourceId;
      } catch (error) {
        const timedOut = error instanceof RefreshTimeout;
        if (!asOf && isNotFound(error)) {
          await audit('failure', { reason: 'not-found', refreshed });
          throw new NotFoundError('Patient not found');
        }
        if (!asOf) {
          await audit('failure', { reason: 'upstream', sourceId });
          throw new UpstreamError('The EHR could not be reached and nothing is cached for this patient yet', {
            reason: timedOut ? 'timeout' : 'unreachable',
          });
        }
        warnings.push({
          code: 'stale',
          asOf: asOf.toISOString(),
          message: timedOut
            ? 'The EHR did not answer in time; showing the last copy fetched'
            : 'The EHR could not be reached; showing the last copy fetched',
        });
      }
    }
    if (!sourceId || !probe.hasPatient(sourceId)) {
      await audit('failure', { reason: 'not-found', refreshed });
      throw new NotFoundError('Patient not found');
    }
    return { probe, sourceId, warnings, refreshed, now };
  }

  /**
   * The view assembled in Node from the cache rows: the reference the projection is tested against, and
   * what callers that need the value (not the HTTP body) use.
   */
  async get(actor: Actor, patientId: string, query: PatientContextQuery = {}): Promise<PatientContext> {
    const { probe, sourceId, warnings, refreshed, now } = await this.resolve(actor, patientId, query, async () =>
      rowsProbe(await this.patientRows(actor.tenantId, patientId, query.sourceId), patientId),
    );
    const scoped = probe.rows.filter((r) => r.sourceId === sourceId);
    const patientRef = `Patient/${patientId}`;
    const [names, tickets] = await Promise.all([
      referencedNames(this.database.db, actor.tenantId, sourceId, scoped),
      this.tickets(actor.tenantId, patientRef, sourceId, now),
    ]);
    const context = assemblePatientContext({
      patientId,
      sourceId,
      rows: scoped,
      names,
      tickets,
      now,
      warnings,
      refreshed,
      tables: this.deps.tables,
    });
    if (!context) throw new NotFoundError('Patient not found');
    await this.auditor(actor, patientId)('success', {
      sourceId,
      refreshed,
      stale: warnings.length > 0,
      counts: {
        coverages: context.coverages.items.length,
        claims: context.claims.items.length,
        tickets: tickets.length,
      },
    });
    return context;
  }

  /**
   * The role-shaped view as JSON text, from the stored projection (rebuilt first when missing or behind the
   * cache) and the live tickets, assembled by PostgreSQL in one statement that also writes the audit row.
   * Node only passes the text on: parsing and re-serialising a ~50 KB view halved throughput (issue #4).
   */
  async getJson(actor: Actor, patientId: string, query: PatientContextQuery = {}): Promise<string> {
    await this.precheck(actor, patientId);
    const view = contextViewFor(actor.roles);
    const at = this.clock.now();
    // Fresh cache and a current projection: answered (and audited) by this one statement.
    const [fast] = await this.database.queryText<{ states: string; body: string | null }>(
      patientViewFastQuery({
        actor,
        patientId,
        sourceId: query.sourceId,
        view,
        now: at,
        freshAfter: new Date(at.getTime() - this.maxAgeMs),
        ticketLimit: this.ticketLimit,
      }),
      // A 4.4 KB statement per view: prepared, it is sent and planned once per connection (issue #4 bench).
      { prepare: true },
    );
    if (fast?.body) {
      this.deps.afterAudit?.(actor);
      return fast.body;
    }
    let first: PatientCacheState[] | undefined = parseCacheStates(fast?.states ?? '[]');
    const today = () => this.clock.now().toISOString().slice(0, 10);
    const { probe, sourceId, warnings, refreshed, now } = await this.resolve(actor, patientId, query, async () => {
      const states =
        first ?? (await patientCacheState(this.database, actor.tenantId, patientId, query.sourceId, today()));
      first = undefined;
      return stateProbe(states, patientId);
    });
    for (let attempt = 0; attempt < 2; attempt++) {
      if (attempt > 0 || !probe.current(sourceId)) {
        const built = await rebuildPatientView(this.database, actor.tenantId, sourceId, patientId, {
          clock: this.clock,
          tables: this.deps.tables,
        });
        if (!built) break;
      }
      const body = await this.assembled(actor, patientId, sourceId, view, warnings, refreshed, now);
      if (body !== undefined) {
        this.deps.afterAudit?.(actor);
        return body;
      }
    }
    await this.auditor(actor, patientId)('failure', { reason: 'not-found', refreshed });
    throw new NotFoundError('Patient not found');
  }

  private async assembled(
    actor: Actor,
    patientId: string,
    sourceId: string,
    view: ContextView,
    warnings: ContextWarning[],
    refreshed: boolean,
    now: Date,
  ): Promise<string | undefined> {
    const statement = patientViewStatement({
      actor,
      patientId,
      sourceId,
      view,
      warnings,
      refreshed,
      now,
      ticketLimit: this.ticketLimit,
    });
    const rows = await this.database.query<{ body: string }>(statement);
    return rows[0]?.body;
  }

  private async patientRows(
    tenantId: string,
    patientId: string,
    sourceId: string | undefined,
  ): Promise<CachedResource[]> {
    return inReadOrder(await patientCacheQuery(this.database.db, tenantId, patientId, sourceId));
  }

  /**
   * Nothing cached yet: the requested source (when it is one of the tenant's) or the tenant's only enabled
   * FHIR source can still fetch the patient. Never a source of another tenant.
   */
  private async fallbackSource(tenantId: string, requested: string | undefined): Promise<string | undefined> {
    if (!this.deps.refreshPatient) return undefined;
    const rows = await this.database.db
      .select({ id: source.id })
      .from(source)
      .where(
        and(
          eq(source.tenantId, tenantId),
          eq(source.enabled, true),
          sql`${source.baseUrl} is not null`,
          requested ? eq(source.id, requested) : undefined,
        ),
      )
      .limit(2);
    return rows.length === 1 ? rows[0]!.id : undefined;
  }

  private refresh(tenantId: string, sourceId: string, patientId: string): Promise<void> {
    const key = `${tenantId}|${sourceId}|${patientId}`;
    let running = this.inFlight.get(key);
    if (!running) {
      const refresher = this.deps.refreshPatient!;
      running = new Promise<void>((resolve, reject) => {
        const abort = new AbortController();
        const timer = setTimeout(() => {
          abort.abort();
          reject(new RefreshTimeout('refresh timed out'));
        }, this.refreshTimeoutMs);
        refresher(tenantId, sourceId, patientId, abort.signal).then(
          () => {
            clearTimeout(timer);
            resolve();
          },
          (error: unknown) => {
            clearTimeout(timer);
            reject(error);
          },
        );
      }).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, running);
    }
    return running;
  }

  /** The patient's tickets on ticket_tenant_patient_idx (tenant, patient_ref, created_at desc). */
  private async tickets(tenantId: string, patientRef: string, sourceId: string, now: Date): Promise<TicketSummary[]> {
    const rows = await this.database.db
      .select({
        id: ticket.id,
        number: ticket.number,
        subject: ticket.subject,
        status: ticket.status,
        priority: ticket.priority,
        category: ticket.category,
        createdAt: ticket.createdAt,
        assigneeId: appUser.id,
        assigneeName: appUser.displayName,
      })
      .from(ticket)
      .leftJoin(appUser, eq(appUser.id, ticket.assigneeId))
      .where(
        and(
          eq(ticket.tenantId, tenantId),
          eq(ticket.patientRef, patientRef),
          or(isNull(ticket.patientSourceId), eq(ticket.patientSourceId, sourceId)),
        ),
      )
      .orderBy(desc(ticket.createdAt))
      .limit(this.ticketLimit);
    return rows.map((r) => ({
      id: r.id,
      number: formatTicketNumber(r.number),
      subject: r.subject,
      status: r.status,
      priority: r.priority,
      category: r.category,
      createdAt: r.createdAt.toISOString(),
      ageSeconds: Math.max(0, Math.floor((now.getTime() - r.createdAt.getTime()) / 1000)),
      assignee: r.assigneeId && r.assigneeName ? { id: r.assigneeId, displayName: r.assigneeName } : null,
    }));
  }
}

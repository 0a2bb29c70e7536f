// The agent view's precomputed parts (issue #4): banner, coverages and both role shapes of the claims, built
// from fhir_resource by the same pure functions as the live builder and stored as JSON text, so a read is one
// statement that concatenates text (PostgreSQL builds the JSON; Node passes it through).
import { and, eq, inArray, is, Placeholder, type SQL, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { newAuditId } from '../audit/audit-id';
import type { Actor, Clock } from '../context/actor';
import { systemClock } from '../context/actor';
import type { Database, Executor } from '../db/database';
import { patientViewProjection } from '../db/schema/agent-view';
import { auditEvent } from '../db/schema/audit';
import { fhirResource } from '../db/schema/sources';
import { appUser } from '../db/schema/tenants';
import { ticket } from '../db/schema/tickets';
import type { CodeTables } from '../fhir/adjudication/code-tables';
import { keyOfReference, keyString } from './local-reference';
import { assemblePatientContext, type CachedResource, type ContextWarning, nameText } from './patient-context';
import { type ContextView, toAgentClaimRow } from './role-shaping';

export const PATIENT_TYPES = ['Patient', 'Coverage', 'Claim', 'ClaimResponse', 'ExplanationOfBenefit'];
const NAMED_TYPES = ['Organization', 'Practitioner', 'PractitionerRole', 'Location'];

/**
 * Every cached resource of a patient in one query on fhir_resource_patient_idx (tenant_id, patient_id,
 * resource_type); callers put the rows in `inReadOrder`.
 */
export function patientCacheQuery(executor: Executor, tenantId: string, patientId: string, sourceId?: string) {
  return executor
    .select({
      resourceType: fhirResource.resourceType,
      resourceId: fhirResource.resourceId,
      sourceId: fhirResource.sourceId,
      resource: fhirResource.resource,
      lastUpdated: fhirResource.lastUpdated,
      fetchedAt: fhirResource.fetchedAt,
    })
    .from(fhirResource)
    .where(
      and(
        eq(fhirResource.tenantId, tenantId),
        eq(fhirResource.patientId, patientId),
        inArray(fhirResource.resourceType, PATIENT_TYPES),
        eq(fhirResource.deleted, false),
        sourceId ? eq(fhirResource.sourceId, sourceId) : undefined,
      ),
    );
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The rows in one fixed order (source, type, id). When two adjudications of one claim disagree, the first read
 * names the claim's payer and provider, so the stored view and the live builder must see the rows in the same
 * order whatever plan their queries get (sorted here: an ORDER BY would steer the planner to the primary key).
 */
export function inReadOrder<T extends { sourceId: string; resourceType: string; resourceId: string }>(rows: T[]): T[] {
  return rows.sort(
    (a, b) =>
      compare(a.sourceId, b.sourceId) || compare(a.resourceType, b.resourceType) || compare(a.resourceId, b.resourceId),
  );
}

/** Names of referenced payers, providers and insurers: one primary-key lookup for all of them. */
export async function referencedNames(
  executor: Executor,
  tenantId: string,
  sourceId: string,
  rows: readonly CachedResource[],
): Promise<Map<string, string>> {
  const wanted = new Set<string>();
  const want = (ref: unknown) => {
    const key = keyOfReference(ref as { reference?: string } | undefined);
    if (key && NAMED_TYPES.includes(key.type)) wanted.add(keyString(key));
  };
  for (const { resource: r } of rows) {
    for (const payor of (r.payor as unknown[] | undefined) ?? []) want(payor);
    want(r.provider);
    want(r.insurer);
    want(r.requestor);
  }
  if (wanted.size === 0) return new Map();
  const ids = [...wanted].map((k) => k.split('/')[1]!);
  const found = await executor
    .select({
      resourceType: fhirResource.resourceType,
      resourceId: fhirResource.resourceId,
      name: sql<unknown>`${fhirResource.resource} -> 'name'`,
    })
    .from(fhirResource)
    .where(
      and(
        eq(fhirResource.tenantId, tenantId),
        eq(fhirResource.sourceId, sourceId),
        inArray(fhirResource.resourceType, NAMED_TYPES),
        inArray(fhirResource.resourceId, ids),
        // A payer or provider the EHR deleted is not named from a stale copy.
        eq(fhirResource.deleted, false),
      ),
    );
  const names = new Map<string, string>();
  for (const row of found) {
    const key = `${row.resourceType}/${row.resourceId}`;
    const text = nameText(row.name);
    if (wanted.has(key) && text) names.set(key, text);
  }
  return names;
}

/**
 * The watermark of one patient's cached rows per source: everything the stored parts show (content, last
 * updated, fetch time) of the non-deleted rows, so a new, changed, re-fetched or deleted row changes it.
 * Reads fhir_resource_patient_idx and the rows' short columns only (no TOAST of `resource`).
 */
const WATERMARK = sql`md5(string_agg(${fhirResource.resourceType} || '/' || ${fhirResource.resourceId} || '|'
  || ${fhirResource.contentHash} || '|' || coalesce(${fhirResource.lastUpdated}, '') || '|'
  || floor(extract(epoch from ${fhirResource.fetchedAt}) * 1000000)::bigint::text, ','
  order by ${fhirResource.resourceType}, ${fhirResource.resourceId}))`;

/** Per source holding rows of the patient: newest fetch, the Patient row's fetch, watermark, projection state. */
export interface PatientCacheState {
  sourceId: string;
  newest: Date | null;
  patientFetchedAt: Date | null;
  watermark: string;
  /** A stored projection built from exactly these rows, for today. */
  current: boolean;
}

const ms = (value: unknown): Date | null => (value === null || value === undefined ? null : new Date(Number(value)));

/**
 * The cheap check before a read: one grouped scan of fhir_resource_patient_idx (short columns only) plus a
 * primary-key probe of the stored projection. Rows: source_id, newest, patient_fetched (epoch ms as text),
 * watermark, current.
 */
export function patientCacheStateStatement(
  tenantId: string,
  patientId: string,
  sourceId: string | undefined,
  today: string,
): SQL {
  return cacheStateSql(tenantId, patientId, sourceId || undefined, today);
}

/** The check with values or placeholders (`sourceId` undefined: every source of the patient). */
function cacheStateSql(tenantId: unknown, patientId: unknown, sourceId: unknown, today: unknown): SQL {
  return sql`select w.source_id, w.newest, w.patient_fetched, w.watermark,
      (p.watermark = w.watermark and p.built_for = ${today}) as current
    from (
      select ${fhirResource.sourceId}::text as source_id,
        floor(extract(epoch from max(${fhirResource.fetchedAt})) * 1000)::bigint::text as newest,
        floor(extract(epoch from max(${fhirResource.fetchedAt}) filter (
          where ${fhirResource.resourceType} = 'Patient' and ${fhirResource.resourceId} = ${patientId})) * 1000
        )::bigint::text as patient_fetched,
        ${WATERMARK} as watermark
      from ${fhirResource}
      where ${fhirResource.tenantId} = ${tenantId} and ${fhirResource.patientId} = ${patientId}
        and ${fhirResource.resourceType} in ${PATIENT_TYPES} and ${fhirResource.deleted} = false
        ${sourceId !== undefined ? sql`and ${fhirResource.sourceId} = ${sourceId}` : sql``}
      group by ${fhirResource.sourceId}
    ) w
    left join ${patientViewProjection} p on p.tenant_id = ${tenantId} and p.source_id = w.source_id::uuid
      and p.patient_id = ${patientId}`;
}

/** The check's rows as `patientViewFastStatement` returns them (JSON text). */
export function parseCacheStates(json: string): PatientCacheState[] {
  return (JSON.parse(json) as StateRow[]).map(toState);
}

interface StateRow {
  source_id: string;
  newest: string | null;
  patient_fetched: string | null;
  watermark: string;
  current: boolean | null;
}

const toState = (r: StateRow): PatientCacheState => ({
  sourceId: r.source_id,
  newest: ms(r.newest),
  patientFetchedAt: ms(r.patient_fetched),
  watermark: r.watermark,
  current: r.current === true,
});

export async function patientCacheState(
  database: Database,
  tenantId: string,
  patientId: string,
  sourceId: string | undefined,
  today: string,
  executor?: Executor,
): Promise<PatientCacheState[]> {
  const rows = await database.query<StateRow & Record<string, unknown>>(
    patientCacheStateStatement(tenantId, patientId, sourceId, today),
    executor,
  );
  return rows.map(toState);
}

export interface ProjectionOptions {
  clock?: Clock;
  tables?: CodeTables;
}

/**
 * Builds (or removes, when the cache no longer holds the Patient) the stored parts of one patient from one
 * snapshot: the rows and the watermark are read in the same repeatable-read transaction, so a write landing
 * in between cannot leave new content under an old watermark. Returns whether a projection now exists.
 */
export async function rebuildPatientView(
  database: Database,
  tenantId: string,
  sourceId: string,
  patientId: string,
  options: ProjectionOptions = {},
): Promise<boolean> {
  const now = (options.clock ?? systemClock).now();
  const today = now.toISOString().slice(0, 10);
  return database.db.transaction(
    async (tx) => {
      const rows = inReadOrder(await patientCacheQuery(tx, tenantId, patientId, sourceId));
      const names = await referencedNames(tx, tenantId, sourceId, rows);
      const context = assemblePatientContext({
        patientId,
        sourceId,
        rows,
        names,
        tickets: [],
        now,
        tables: options.tables,
      });
      const where = and(
        eq(patientViewProjection.tenantId, tenantId),
        eq(patientViewProjection.sourceId, sourceId),
        eq(patientViewProjection.patientId, patientId),
      );
      if (!context) {
        await tx.delete(patientViewProjection).where(where);
        return false;
      }
      const [state] = await patientCacheState(database, tenantId, patientId, sourceId, today, tx);
      const values = {
        watermark: state!.watermark,
        builtFor: today,
        patientJson: JSON.stringify(context.patient),
        coveragesJson: JSON.stringify(context.coverages),
        claimsBillingJson: JSON.stringify(context.claims),
        claimsAgentJson: JSON.stringify({
          items: context.claims.items.map(toAgentClaimRow),
          fetchedAt: context.claims.fetchedAt,
        }),
        coverageCount: context.coverages.items.length,
        claimCount: context.claims.items.length,
        builtAt: now,
      };
      await tx
        .insert(patientViewProjection)
        .values({ tenantId, sourceId, patientId, ...values })
        .onConflictDoUpdate({
          target: [patientViewProjection.tenantId, patientViewProjection.sourceId, patientViewProjection.patientId],
          set: values,
        });
      return true;
    },
    { isolationLevel: 'repeatable read' },
  );
}

/**
 * Patients of a source whose rows were written, or marked deleted, at or after `since` (after a sync run).
 * Served by `fhir_resource_fetched_idx` and `fhir_resource_deleted_idx` (a BitmapOr), not a scan of the cache.
 */
export function changedPatientsStatement(scope: { tenantId: string; sourceId: string }, since: Date) {
  return sql`select distinct ${fhirResource.patientId} as patient_id from ${fhirResource}
      where ${fhirResource.tenantId} = ${scope.tenantId} and ${fhirResource.sourceId} = ${scope.sourceId}
        and ${fhirResource.patientId} is not null and ${fhirResource.resourceType} in ${PATIENT_TYPES}
        and (${fhirResource.fetchedAt} >= ${since.toISOString()}::timestamptz
          or (${fhirResource.deleted} and ${fhirResource.deletedAt} >= ${since.toISOString()}::timestamptz))`;
}

/**
 * After a sync: rebuilds the projections of the patients whose rows the run wrote or marked deleted at or
 * after `since`, `batch` patients at a time. Reads between runs stay correct without it (the read path
 * rebuilds a projection whose watermark no longer matches); this moves that work off the first view.
 */
export async function rebuildChangedPatientViews(
  database: Database,
  scope: { tenantId: string; sourceId: string },
  since: Date,
  options: ProjectionOptions & { parallel?: number } = {},
): Promise<number> {
  const rows = await database.query<{ patient_id: string }>(changedPatientsStatement(scope, since));
  await rebuildPatientViews(
    database,
    scope,
    rows.map((r) => r.patient_id),
    options,
  );
  return rows.length;
}

export interface PatientViewStatementInput {
  actor: Actor;
  patientId: string;
  sourceId: string;
  view: ContextView;
  warnings: readonly ContextWarning[];
  refreshed: boolean;
  now: Date;
  ticketLimit: number;
}

/**
 * The per-view values of the read, by name: actual values for a one-off statement, or drizzle placeholders
 * for the fast statement's template (rendered once per shape, see `patientViewFastQuery`).
 */
interface ViewValues {
  tenantId: unknown;
  patientId: unknown;
  patientRef: unknown;
  ticketLimit: unknown;
  nowIso: unknown;
  nowJson: unknown;
  auditId: unknown;
  occurredAt: unknown;
  userId: unknown;
  actorKind: unknown;
  actorLabel: unknown;
  requestId: unknown;
}

function viewValues(actor: Actor, patientId: string, now: Date, ticketLimit: number): ViewValues {
  const nowIso = now.toISOString();
  return {
    tenantId: actor.tenantId,
    patientId,
    patientRef: `Patient/${patientId}`,
    ticketLimit,
    nowIso,
    nowJson: JSON.stringify(nowIso),
    auditId: newAuditId(),
    // Millisecond precision: the audit row must survive a round trip through JS Dates to re-hash equally.
    occurredAt: new Date(Math.floor(Date.now())).toISOString(),
    userId: actor.userId,
    actorKind: actor.kind,
    actorLabel: actor.label ?? null,
    requestId: actor.requestId ?? null,
  };
}

/**
 * The read: one statement that concatenates the stored parts with the live ones — the patient's tickets
 * (ticket_tenant_patient_idx) with assignee names, the tickets' as-of, warnings — and inserts the read's
 * audit row in a data-modifying CTE, so the view and its audit row commit together (HIPAA-06). One row
 * `{ body }` with the role-shaped view as JSON text; no row when no projection is stored.
 */
function viewParts(
  shape: { view: ContextView; warnings: readonly ContextWarning[]; refreshed: boolean },
  v: ViewValues,
  sourceId: SQL,
): { ctes: SQL; body: SQL } {
  const { view, warnings, refreshed } = shape;
  const p = patientViewProjection;
  const claims = view === 'billing' ? p.claimsBillingJson : p.claimsAgentJson;
  const ctes = sql`
    pv as (
      select ${p.patientJson} as patient_json, ${p.coveragesJson} as coverages_json, ${claims} as claims_json,
        ${p.coverageCount} as coverage_count, ${p.claimCount} as claim_count
      from ${p}
      where ${p.tenantId} = ${v.tenantId} and ${p.sourceId} = ${sourceId} and ${p.patientId} = ${v.patientId}
    ),
    t as (
      select t.id, t.number, t.subject, t.status, t.priority, t.category, t.created_at,
        u.id as assignee_id, u.display_name as assignee_name
      from ${ticket} t left join ${appUser} u on u.id = t.assignee_id
      where t.tenant_id = ${v.tenantId} and t.patient_ref = ${v.patientRef}
        and (t.patient_source_id is null or t.patient_source_id = ${sourceId})
      order by t.created_at desc
      limit ${v.ticketLimit}
    ),
    items as (
      select count(*)::int as n, coalesce(json_agg(json_build_object(
        'id', t.id, 'number', 'T-' || t.number, 'subject', t.subject, 'status', t.status,
        'priority', t.priority, 'category', t.category,
        'createdAt', to_char(t.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'ageSeconds', greatest(0, floor(extract(epoch from
          (${v.nowIso}::timestamptz - date_trunc('milliseconds', t.created_at)))))::bigint,
        'assignee', case when t.assignee_id is not null and t.assignee_name is not null
          then json_build_object('id', t.assignee_id, 'displayName', t.assignee_name) end
      ) order by t.created_at desc), '[]'::json)::text as json
      from t
    ),
    audit as (
      insert into ${auditEvent} (id, tenant_id, occurred_at, actor_id, actor_kind, actor_label, action,
        entity_type, entity_id, patient_ref, outcome, request_id, detail)
      select ${v.auditId}::uuid, ${v.tenantId}::uuid, ${v.occurredAt}::timestamptz, ${v.userId}::uuid,
        ${v.actorKind}, ${v.actorLabel}, 'patient-context.read', 'Patient', ${v.patientId}, ${v.patientRef},
        'success', ${v.requestId},
        jsonb_build_object('fhirAction', 'R', 'sourceId', (${sourceId})::text, 'refreshed', ${refreshed}::boolean,
          'stale', ${warnings.length > 0}::boolean, 'counts', jsonb_build_object(
            'coverages', pv.coverage_count, 'claims', pv.claim_count, 'tickets', items.n))
      from pv, items
      returning 1
    )`;
  const body = sql`'{"view":' || ${JSON.stringify(view)} || ',"patient":' || pv.patient_json
      || ',"coverages":' || pv.coverages_json || ',"claims":' || pv.claims_json
      || ',"tickets":{"items":' || items.json || ',"asOf":' || ${v.nowJson}
      || '},"warnings":' || ${JSON.stringify(warnings)} || ',"refreshed":' || ${String(refreshed)}
      || '}'`;
  return { ctes, body };
}

export function patientViewStatement(input: PatientViewStatementInput): SQL {
  const { ctes, body } = viewParts(
    input,
    viewValues(input.actor, input.patientId, input.now, input.ticketLimit),
    sql`${input.sourceId}::uuid`,
  );
  return sql`with ${ctes} select ${body} as body from pv, items, (select count(*) from audit) as written`;
}

export interface PatientViewFastInput {
  actor: Actor;
  patientId: string;
  /** Source the caller asked for, if any. */
  sourceId: string | undefined;
  view: ContextView;
  now: Date;
  /** Cache fetched before this instant is stale (the refresh path decides). */
  freshAfter: Date;
  ticketLimit: number;
}

/** Values of the fast statement beyond the read's: the cache check's. */
interface FastValues extends ViewValues {
  sourceId: unknown;
  today: unknown;
  freshAfterMs: unknown;
}

function fastStatement(shape: { view: ContextView; withSource: boolean }, v: FastValues): SQL {
  const { ctes, body } = viewParts(
    { view: shape.view, warnings: [], refreshed: false },
    v,
    sql`(select ok.source_id from ok)::uuid`,
  );
  return sql`
    with st as (${cacheStateSql(v.tenantId, v.patientId, shape.withSource ? v.sourceId : undefined, v.today)}),
    ok as (
      select c.source_id from (
        select st.source_id, st.newest, st.current from st where st.patient_fetched is not null
        order by st.patient_fetched::bigint desc limit 1
      ) c
      where c.current and c.newest::bigint >= ${v.freshAfterMs}
    ),
    ${ctes}
    select (select coalesce(json_agg(st), '[]'::json) from st)::text as states,
      (select ${body} from pv, items, (select count(*) from audit) as written) as body`;
}

function fastValues(input: PatientViewFastInput): FastValues {
  return {
    ...viewValues(input.actor, input.patientId, input.now, input.ticketLimit),
    sourceId: input.sourceId ?? null,
    today: input.now.toISOString().slice(0, 10),
    freshAfterMs: input.freshAfter.getTime(),
  };
}

/**
 * The common read in one round trip: the watermark check, and — when the chosen source's projection is
 * current and its cache fresh — the assembled view and its audit row. Row `{ states, body }`: `states` is the
 * check's rows as JSON text (for the slow path), `body` is null when the slow path has to decide (stale
 * cache, refresh, missing or outdated projection, unknown patient).
 */
export function patientViewFastStatement(input: PatientViewFastInput): SQL {
  return fastStatement({ view: input.view, withSource: input.sourceId !== undefined }, fastValues(input));
}

/** A statement rendered to text with its parameters in order (what `Database.queryText` sends). */
export interface RenderedQuery {
  sql: string;
  params: unknown[];
}

type Slot = { name: keyof FastValues } | { value: unknown };
const fastTemplates = new Map<string, { sql: string; slots: Slot[] }>();
const dialect = new PgDialect();

/**
 * `patientViewFastStatement` as text and parameters. The text depends only on the shape (view, source asked
 * for or not), so it is rendered once per shape with placeholders and each view only fills in its values:
 * building and rendering the drizzle tree per view cost ~10 % of the server's busy time (issue #4 profile).
 */
export function patientViewFastQuery(input: PatientViewFastInput): RenderedQuery {
  const withSource = input.sourceId !== undefined;
  const key = `${input.view}|${withSource}`;
  let template = fastTemplates.get(key);
  if (!template) {
    const names = Object.keys(fastValues(input)) as (keyof FastValues)[];
    const placeholders = Object.fromEntries(names.map((n) => [n, sql.placeholder(n)])) as unknown as FastValues;
    const rendered = dialect.sqlToQuery(fastStatement({ view: input.view, withSource }, placeholders));
    template = {
      sql: rendered.sql,
      slots: rendered.params.map((p) => (is(p, Placeholder) ? { name: p.name as keyof FastValues } : { value: p })),
    };
    fastTemplates.set(key, template);
  }
  const values = fastValues(input);
  return { sql: template.sql, params: template.slots.map((s) => ('name' in s ? values[s.name] : s.value)) };
}

/** Builds the projections of `patientIds` with `parallel` builds at once (initial load, backfill, benchmark). */
export async function rebuildPatientViews(
  database: Database,
  scope: { tenantId: string; sourceId: string },
  patientIds: readonly string[],
  options: ProjectionOptions & { parallel?: number } = {},
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < patientIds.length) {
      const patientId = patientIds[next++]!;
      await rebuildPatientView(database, scope.tenantId, scope.sourceId, patientId, options);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.parallel ?? 1) }, worker));
}

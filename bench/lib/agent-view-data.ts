// The agent-view benchmark's data set (issue #4): patients, their cached Coverage / Claim / EOB rows and
// tickets, generated set-based in PostgreSQL (generate_series) from templates cut out of the real fixtures in
// test/fixtures/fhir-r4, so each row has the size and shape a sync would cache (Synthea EOBs with line
// adjudication, the HL7 Coverage example). Loading bypasses the API: it only builds tables of realistic size.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type postgres from 'postgres';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/fhir-r4/', import.meta.url));
/** A Synthea patient whose bundle has EOBs with item-level adjudication (coinsurance, deductible, allowed). */
const SYNTHEA_BUNDLE = 'synthea/Alberto_Atencio_fc712d1f-5a2e-4407-9c55-a2a2bad623c2.json';
const SYNTHEA_EOB_ID = '30fa5ace-7863-4dab-9b22-937d3fa9c104';

/** Financial resources per patient: 1 Coverage, 4 Claims, 4 EOBs of those Claims and 1 EOB whose Claim is not cached. */
export const FINANCIAL_PER_PATIENT = 10;
export const ORGANIZATIONS = 50;
export const PAYERS = 5;

export interface Templates {
  patient: string;
  coverage: string;
  claim: string;
  eob: string;
  organization: string;
}

type Json = Record<string, unknown>;

const readJson = (path: string): Json => JSON.parse(readFileSync(FIXTURES + path, 'utf8')) as Json;

/**
 * JSON text with placeholders the load SQL replaces per row: __RID__ (resource id), __PID__ (patient id),
 * __CID__ (claim id), __ORG__ (provider organization id), __PAYER__ (payer organization id), __CREATED__.
 */
export function loadTemplates(): Templates {
  const bundle = readJson(SYNTHEA_BUNDLE) as { entry: { resource: Json }[] };
  const resources = bundle.entry.map((e) => e.resource);
  const eob = structuredClone(resources.find((r) => r.id === SYNTHEA_EOB_ID)!);
  const patient = structuredClone(resources.find((r) => r.resourceType === 'Patient')!);
  const claimRef = (eob.claim as { reference: string }).reference;
  const claim = structuredClone(resources.find((r) => `urn:uuid:${r.id}` === claimRef)!);
  const coverage = readJson('hl7-r4-examples/Coverage-9876B1.json');
  const organization = readJson('hl7-r4-examples/Organization-2.json');

  // Synthea references are urn:uuid: inside the bundle; the cache holds them as `Type/id` as a FHIR server
  // would serve them. Patient and provider references are rewritten; other references (encounter, diagnosis)
  // stay as published, unresolvable, as they are in a real cache that syncs only financial resources.
  const rewrite = (resource: Json, created: boolean): string => {
    let text = JSON.stringify(resource);
    text = text.replaceAll(`urn:uuid:${patient.id as string}`, 'Patient/__PID__');
    for (const ref of [(resource.provider as { reference?: string } | undefined)?.reference]) {
      if (ref) text = text.replaceAll(ref, 'Organization/__ORG__');
    }
    if (created) text = text.replace(/"created":"[^"]*"/, '"created":"__CREATED__"');
    return text;
  };

  patient.id = '__RID__';
  claim.id = '__RID__';
  eob.id = '__RID__';
  eob.claim = { reference: 'Claim/__CID__' };
  eob.insurer = { reference: 'Organization/__PAYER__', display: 'private' };
  coverage.id = '__RID__';
  coverage.subscriber = { reference: 'Patient/__PID__' };
  coverage.beneficiary = { reference: 'Patient/__PID__' };
  coverage.payor = [{ reference: 'Organization/__PAYER__' }];
  coverage.period = { start: '2025-01-01', end: '2027-12-31' };
  organization.id = '__RID__';
  organization.name = '__NAME__';
  return {
    patient: rewrite(patient, false),
    coverage: JSON.stringify(coverage),
    claim: rewrite(claim, true),
    eob: rewrite(eob, true),
    organization: JSON.stringify(organization),
  };
}

export interface DataSet {
  tenantId: string;
  sourceId: string;
  userId: string;
  agentIds: string[];
}

/**
 * Runs `load` with the table's secondary indexes and its own foreign keys dropped, then recreates them from
 * their catalog definitions (one sorted build each instead of 1M index insertions and FK trigger calls).
 * Primary and unique keys stay: other tables' foreign keys depend on them.
 */
export async function withoutSecondaryIndexes(sql: postgres.Sql, table: string, load: () => Promise<void>) {
  const indexes = await sql<{ name: string; def: string }[]>`
    select i.relname as name, pg_get_indexdef(i.oid) as def
    from pg_index x join pg_class i on i.oid = x.indexrelid
    where x.indrelid = ${table}::regclass
      and not exists (select 1 from pg_constraint c where c.conindid = i.oid)`;
  const fks = await sql<{ name: string; def: string }[]>`
    select conname as name, pg_get_constraintdef(oid) as def
    from pg_constraint where conrelid = ${table}::regclass and contype = 'f'`;
  for (const i of indexes) await sql.unsafe(`drop index "${i.name}"`);
  for (const f of fks) await sql.unsafe(`alter table "${table}" drop constraint "${f.name}"`);
  await load();
  await sql.unsafe(`set maintenance_work_mem = '256MB'`);
  for (const i of indexes) await sql.unsafe(i.def);
  for (const f of fks) await sql.unsafe(`alter table "${table}" add constraint "${f.name}" ${f.def}`);
}

/** Splits 1..count into `parts` ranges and runs `statement(from, to)` for each on its own connection. */
async function inParallel(count: number, parts: number, statement: (from: number, to: number) => Promise<unknown>) {
  const size = Math.ceil(count / parts);
  await Promise.all(
    Array.from({ length: parts }, (_, i) => {
      const from = i * size + 1;
      const to = Math.min(count, (i + 1) * size);
      return from <= to ? statement(from, to) : Promise.resolve();
    }),
  );
}

const iso = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * Organizations (names the view looks up), `patients` Patient rows and FINANCIAL_PER_PATIENT financial rows
 * per patient. Patient ids are `pat-1` … `pat-<patients>`. `parallel` statements run at once (one per core).
 */
export async function loadFhirCache(
  sql: postgres.Sql,
  data: DataSet,
  templates: Templates,
  patients: number,
  parallel: number,
): Promise<void> {
  const columns = `tenant_id, source_id, resource_type, resource_id, version_id, last_updated, last_updated_at,
    patient_id, resource, content_hash, fetched_at`;
  await sql.unsafe(
    `insert into fhir_resource (${columns})
     select $1::uuid, $2::uuid, 'Organization', 'org-' || g, '1', ${iso('now()')}, now(), null,
       d::jsonb, md5(d), now()
     from generate_series(0, ${ORGANIZATIONS - 1}) g,
       lateral (select replace(replace($3, '__RID__', 'org-' || g), '__NAME__',
         case when g < ${PAYERS} then 'Payer ' else 'Clinic ' end || g) as d) t`,
    [data.tenantId, data.sourceId, templates.organization],
  );
  await withoutSecondaryIndexes(sql, 'fhir_resource', async () => {
    await inParallel(patients, parallel, (from, to) =>
      sql.unsafe(
        `insert into fhir_resource (${columns})
         select $1::uuid, $2::uuid, 'Patient', 'pat-' || g, '1', ${iso('fetched')}, fetched, 'pat-' || g,
           d::jsonb, md5(d), fetched
         from generate_series($4::int, $5::int) g,
           lateral (select now() - random() * interval '5 minutes' as fetched) f,
           lateral (select replace($3, '__RID__', 'pat-' || g) as d) t`,
        [data.tenantId, data.sourceId, templates.patient, from, to],
      ),
    );
    await inParallel(patients, parallel, (from, to) =>
      sql.unsafe(
        `insert into fhir_resource (${columns})
         select $1::uuid, $2::uuid, x.type, x.rid, '1', ${iso('x.fetched')}, x.fetched, 'pat-' || g,
           d::jsonb, md5(d), x.fetched
         from generate_series($6::int, $7::int) g
         cross join generate_series(1, ${FINANCIAL_PER_PATIENT}) k
         cross join lateral (select
             case when k = 1 then 'Coverage' when k <= 5 then 'Claim' else 'ExplanationOfBenefit' end as type,
             case when k = 1 then 'cov-' when k <= 5 then 'clm-' else 'eob-' end || g || '-' || k as rid,
             -- EOB k (6..9) adjudicates Claim k-4 (2..5); EOB 10 points at a Claim the cache does not hold.
             'clm-' || g || '-' || case when k between 6 and 9 then k - 4 else 0 end as cid,
             now() - (random() * 700 + 1) * interval '1 day' as created,
             now() - random() * interval '5 minutes' as fetched) x
         cross join lateral (select replace(replace(replace(replace(replace(replace(
             case when k = 1 then $3 when k <= 5 then $4 else $5 end,
             '__RID__', x.rid), '__PID__', 'pat-' || g), '__CID__', x.cid),
             '__ORG__', 'org-' || (${PAYERS} + g % ${ORGANIZATIONS - PAYERS})),
             '__PAYER__', 'org-' || (g % ${PAYERS})), '__CREATED__', ${iso('x.created')}) as d) t`,
        [data.tenantId, data.sourceId, templates.coverage, templates.claim, templates.eob, from, to],
      ),
    );
  });
}

const CATEGORIES = ['billing', 'insurance', 'claim-dispute', 'billing', 'insurance', 'billing'];
const CHANNELS = ['phone', 'phone', 'email', 'chat', 'portal', 'sms'];
const STATUSES = ['closed', 'closed', 'closed', 'resolved', 'open', 'new', 'pending-payer', 'pending-patient'];
const PRIORITIES = ['normal', 'normal', 'normal', 'low', 'high', 'urgent'];
const QUEUES = ['general', 'billing', 'claims', 'billing', 'general', 'escalations'];
const SUBJECTS = [
  'Refund for duplicate copay',
  'Claim denied as not medically necessary',
  'Question about explanation of benefits',
  'Balance bill after in-network visit',
  'Deductible applied incorrectly',
  'Coverage terminated unexpectedly',
  'Itemized bill requested',
  'Payment plan request',
];

const arr = (values: readonly string[]) => `array[${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(',')}]`;
const one = (values: readonly string[]) => `(${arr(values)})[1 + floor(random() * ${values.length})::int]`;

/**
 * `count` tickets over two years, spread over the patients with a skew (a few frequent callers have hundreds,
 * most patients a handful, ~5 % none). 70 % are assigned, so the view's assignee join has work to do.
 */
export async function loadTickets(sql: postgres.Sql, data: DataSet, count: number, patients: number, parallel: number) {
  await withoutSecondaryIndexes(sql, 'ticket', async () => {
    await inParallel(count, parallel, (from, to) =>
      sql.unsafe(
        `insert into ticket (id, tenant_id, number, subject, description, category, channel, status, priority, queue,
           assignee_id, patient_ref, patient_source_id, language, created_by, created_at, updated_at)
         select gen_random_uuid(), $1::uuid, 1000 + g, ${one(SUBJECTS)}, '', ${one(CATEGORIES)}, ${one(CHANNELS)},
           ${one(STATUSES)}, ${one(PRIORITIES)}, ${one(QUEUES)},
           case when random() < 0.7 then ($3::uuid[])[1 + floor(random() * array_length($3::uuid[], 1))::int] end,
           'Patient/pat-' || (1 + floor(${patients} * power(random(), 1.3))::int),
           case when random() < 0.5 then $2::uuid end, 'en', $4::uuid, created, created
         from generate_series($5::int, $6::int) g,
           lateral (select now() - interval '730 days' * (1 - g::float8 / ${count}) as created) c`,
        [data.tenantId, data.sourceId, data.agentIds, data.userId, from, to],
      ),
    );
  });
  await sql`insert into ticket_counter (tenant_id, next_number) values (${data.tenantId}, ${1001 + count})`;
}

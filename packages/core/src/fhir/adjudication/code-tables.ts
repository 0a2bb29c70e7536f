// Code tables (CARC, RARC, CAS group codes, adjudication categories) are data files in packages/core/data,
// not code: a deployment with licensed X12 text can replace them (STANDARDS CS-05) through loadCodeTables.
import { readFileSync } from 'node:fs';
import categoriesData from '../../../data/adjudication-categories.json' with { type: 'json' };
import carcData from '../../../data/carc.json' with { type: 'json' };
import groupData from '../../../data/group-codes.json' with { type: 'json' };
import rarcData from '../../../data/rarc.json' with { type: 'json' };
import { ValidationError } from '../../errors';

export const CARC_SYSTEM = 'https://x12.org/codes/claim-adjustment-reason-codes';
export const RARC_SYSTEM = 'https://x12.org/codes/remittance-advice-remark-codes';
export const GROUP_CODE_SYSTEM = 'https://bluebutton.cms.gov/fhir/CodeSystem/ANSI-GRP-CODE';
export const ADJUDICATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/adjudication';
export const C4BB_ADJUDICATION_SYSTEM = 'http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication';
export const C4BB_DISCRIMINATOR_SYSTEM = 'http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudicationDiscriminator';

/** Dispute reason categories a CARC can point at (see disputes/dispute-reason.ts). */
export type CarcDisputeCategory = 'denied' | 'duplicate' | 'coordination-of-benefits' | 'eligibility';

export interface CodeEntry {
  display: string;
  /** Plain-language sentence for patients (explainClaim). */
  plain?: string;
  /** For CARCs: which dispute category a claim denied for this reason falls in. */
  disputeCategory?: CarcDisputeCategory;
  /** For CARCs: `patient-share` (deductible/coinsurance/copay) or `contractual` (provider write-off). */
  kind?: 'patient-share' | 'contractual';
  /** For group codes: whether amounts in this group are billable to the patient (X835-01). */
  patientResponsibility?: boolean;
}

export interface CodeTable {
  system: string;
  /** Where the texts come from and under which terms (X12 list, CMS, own paraphrase). */
  source: string;
  version: string;
  date: string;
  codes: Record<string, CodeEntry>;
}

/** What a category coding means once normalised (FIN-33/FIN-34 plus Blue Button line variables). */
export type AdjudicationKind =
  | 'submitted'
  | 'eligible'
  | 'benefit'
  | 'deductible'
  | 'copay'
  | 'coinsurance'
  | 'eligpercent'
  | 'tax'
  | 'noncovered'
  | 'priorpayerpaid'
  | 'paidbypatient'
  | 'paidbypatientcash'
  | 'paidbypatientother'
  | 'paidbypatienthealthaccount'
  | 'paidtoprovider'
  | 'paidtopatient'
  | 'memberliability'
  | 'discount'
  | 'drugcost'
  | 'adjustmentreason'
  | 'rejectreason'
  | 'allowedunits'
  | 'billingnetworkstatus'
  | 'renderingnetworkstatus'
  | 'benefitpaymentstatus'
  | 'informational';

export interface CategoryEntry {
  system: string;
  code: string;
  kind: AdjudicationKind;
}

export interface CategoryTable {
  source: string;
  version: string;
  date: string;
  /** System assumed for a category coding published without `system` (the HL7 examples do this). */
  codeOnlySystem: string;
  categories: CategoryEntry[];
}

export interface CodeTables {
  carc: CodeTable;
  rarc: CodeTable;
  groupCodes: CodeTable;
  categories: CategoryTable;
}

export type CodeTablesOverride = {
  [K in keyof CodeTables]?: CodeTables[K] | string;
};

const DEFAULTS: CodeTables = {
  carc: carcData as CodeTable,
  rarc: rarcData as CodeTable,
  groupCodes: groupData as CodeTable,
  categories: categoriesData as CategoryTable,
};

function checkTable(name: string, table: unknown): void {
  const t = table as Partial<CodeTable & CategoryTable> | null;
  const ok =
    t !== null &&
    typeof t === 'object' &&
    typeof t.source === 'string' &&
    typeof t.version === 'string' &&
    (name === 'categories' ? Array.isArray(t.categories) : typeof t.codes === 'object' && t.codes !== null);
  if (!ok) {
    throw new ValidationError('code table override is not a valid table', [
      { field: name, message: 'needs source, version and codes (or categories)' },
    ]);
  }
}

/**
 * The built-in tables, with any of them replaced by a deployment's own: each override is a table object
 * or a path to a JSON file of the same shape. Replaced tables are used as given (not merged), so a
 * licensed full list fully takes the place of the paraphrased subset.
 */
export function loadCodeTables(override: CodeTablesOverride = {}): CodeTables {
  const result: CodeTables = { ...DEFAULTS };
  for (const key of Object.keys(override) as (keyof CodeTables)[]) {
    const value = override[key];
    if (value === undefined) continue;
    const table: unknown = typeof value === 'string' ? JSON.parse(readFileSync(value, 'utf8')) : value;
    checkTable(key, table);
    (result as Record<keyof CodeTables, unknown>)[key] = table;
  }
  return result;
}

/** The built-in tables (no override). */
export const defaultCodeTables: CodeTables = DEFAULTS;

/** Looks up a category coding; `undefined` for a category this table does not know. */
export function categoryKind(
  tables: CodeTables,
  coding: { system?: string | undefined; code?: string | undefined },
): AdjudicationKind | undefined {
  if (!coding.code) return undefined;
  const system = coding.system ?? tables.categories.codeOnlySystem;
  const hit = tables.categories.categories.find((c) => c.system === system && c.code === coding.code);
  if (hit) return hit.kind;
  // A C4BB code published under the THO system or the other way round is still recognised by code.
  if (coding.system === ADJUDICATION_SYSTEM || coding.system === C4BB_ADJUDICATION_SYSTEM || !coding.system) {
    return tables.categories.categories.find(
      (c) =>
        (c.system === ADJUDICATION_SYSTEM ||
          c.system === C4BB_ADJUDICATION_SYSTEM ||
          c.system === C4BB_DISCRIMINATOR_SYSTEM) &&
        c.code === coding.code,
    )?.kind;
  }
  return undefined;
}

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClaimResponse, ExplanationOfBenefit } from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { CARC_SYSTEM, GROUP_CODE_SYSTEM } from '../fhir/adjudication/code-tables';
import { hl7Examples, syntheaEobs } from '../fhir/adjudication/fixtures.testing';
import { summarizeAdjudication } from '../fhir/adjudication/summary';
import { import835 } from '../x12/import-835';
import { classifyDenial } from './dispute-reason';

const REMIT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../test/data/x12/remit-multi-claim.835');

function withAdjustment(eob: ExplanationOfBenefit, carc: string, group: string, amount: number): ExplanationOfBenefit {
  const copy = structuredClone(eob);
  copy.adjudication = [
    ...(copy.adjudication ?? []),
    {
      category: { coding: [{ code: 'adjustmentreason' }] },
      reason: {
        coding: [
          { system: CARC_SYSTEM, code: carc },
          { system: GROUP_CODE_SYSTEM, code: group },
        ],
      },
      amount: { value: amount, currency: 'USD' },
    },
  ];
  return copy;
}

describe('classifyDenial for auto-open rules', () => {
  const { eobs } = import835(readFileSync(REMIT, 'utf8'));
  const summaries = eobs.map((e) => summarizeAdjudication(e));

  it('classifies a CLP02=4 claim as denied with its CARCs, one key per claim and reason', () => {
    const denied = summaries.find((s) => s.denied);
    const c = denied ? classifyDenial(denied) : undefined;
    expect(c).toMatchObject({ category: 'denied', wholeClaim: true });
    expect(c?.carcs).toEqual(
      denied?.adjustments.filter((a) => a.group?.code !== 'PR' && a.carc).map((a) => a.carc?.code),
    );
    expect(c?.rarcs).toEqual(['MA130', 'N290']);
    expect(c?.dedupeKey).toBe(`ExplanationOfBenefit/${denied?.id}#denied`);
  });

  it('returns nothing for a claim paid as adjudicated with only patient shares', () => {
    expect(classifyDenial(summaries[0] as never)).toBeUndefined();
    for (const { eob, claim } of syntheaEobs())
      expect(classifyDenial(summarizeAdjudication(eob, claim))).toBeUndefined();
  });

  it('prefers the most specific reason a CARC gives', () => {
    const base = hl7Examples<ExplanationOfBenefit>('ExplanationOfBenefit').find((e) => e.file.includes('EB3500'))
      ?.resource as ExplanationOfBenefit;
    const duplicate = withAdjustment(withAdjustment(base, '18', 'CO', 20), '50', 'CO', 10);
    expect(classifyDenial(summarizeAdjudication(duplicate))?.category).toBe('duplicate');
    expect(classifyDenial(summarizeAdjudication(withAdjustment(base, '27', 'CO', 20)))?.category).toBe('eligibility');
    expect(classifyDenial(summarizeAdjudication(withAdjustment(base, '22', 'OA', 20)))?.category).toBe(
      'coordination-of-benefits',
    );
    // PR-group amounts are the patient's share, never a denial reason.
    expect(classifyDenial(summarizeAdjudication(withAdjustment(base, '96', 'PR', 20)))?.category).not.toBe('denied');
  });

  it('classifies a line-level denial on a paid claim as a partial denial', () => {
    const partial = summaries.find((s) => s.paymentStatus === 'partiallypaid');
    const c = partial ? classifyDenial(partial) : undefined;
    expect(c?.wholeClaim).toBe(false);
    expect(c?.carcs).toEqual(expect.arrayContaining(['50']));
  });

  it('flags underpayment when the plan paid less than allowed minus the patient share', () => {
    const r3500 = hl7Examples<ClaimResponse>('ClaimResponse').find((e) => e.file.includes('R3500'))
      ?.resource as ClaimResponse;
    const s = summarizeAdjudication(r3500);
    const allowed = s.amounts.allowed?.minor ?? 0;
    const expected =
      allowed - (s.amounts.patientResponsibility?.minor ?? 0) > (s.amounts.paid?.minor ?? 0) ? 'underpaid' : undefined;
    expect(classifyDenial(s)?.category).toBe(expected);
    expect(expected).toBe('underpaid');
  });

  it('treats an error outcome as a denial', () => {
    const r3501 = hl7Examples<ClaimResponse>('ClaimResponse').find((e) => e.file.includes('R3501'))
      ?.resource as ClaimResponse;
    expect(classifyDenial(summarizeAdjudication(r3501))).toMatchObject({
      category: 'denied',
      signals: ['outcome-error'],
    });
  });
});

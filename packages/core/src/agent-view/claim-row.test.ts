import type { Claim, ClaimResponse, ExplanationOfBenefit } from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { loadHl7Examples, loadSyntheaBundles } from '../../../../test/fixtures/fhir-r4-fixtures';
import { summarizeAdjudicated } from './adjudication-summary';
import { toClaimRows } from './claim-row';
import { toAgentClaimRow } from './role-shaping';

const example = <T>(file: string) => structuredClone(loadHl7Examples().find((f) => f.file === file)!.resource as T);

/** Expected amounts are computed here from the JSON with plain cents arithmetic, independent of the code under test. */
const cents = (values: number[]) => (Math.round(values.reduce((a, b) => a + b, 0) * 100) / 100).toFixed(2);
type Adj = { category: { coding?: { code?: string }[] }; amount?: { value?: number } };
const linesOf = (items: { adjudication?: Adj[] }[] | undefined, code: string) =>
  (items ?? [])
    .flatMap((i) => i.adjudication ?? [])
    .filter((a) => a.category.coding?.some((c) => c.code === code))
    .map((a) => a.amount?.value ?? 0);
const totalOf = (r: { total?: Adj[] }, code: string) =>
  r.total?.find((t) => t.category.coding?.some((c) => c.code === code))?.amount?.value;

describe('adjudication summary', () => {
  it('reads ClaimResponse R3500: totals, allowed and copay from the item, plan-limit reason with its text', () => {
    const cr = example<ClaimResponse>('ClaimResponse-R3500.json');
    const s = summarizeAdjudicated(cr);
    expect(s.billed?.value).toBe(cents([totalOf(cr, 'submitted')!]));
    expect(s.paid?.value).toBe(cents([totalOf(cr, 'benefit')!]));
    expect(s.allowed?.value).toBe(cents(linesOf(cr.item, 'eligible')));
    expect(s.patientResponsibility?.value).toBe(cents(linesOf(cr.item, 'copay')));
    const reason = cr.item![0]!.adjudication!.find((a) => a.reason)!.reason!.coding![0]!;
    expect(s.reasons).toContainEqual(
      expect.objectContaining({ kind: 'adjustment', code: reason.code, display: reason.display }),
    );
    expect(s.decision).toBe('paid');
  });

  it('reads EOB EB3501 as an error with its process note, and ClaimResponse R3502 payment adjustment reason', () => {
    const eob = example<ExplanationOfBenefit>('ExplanationOfBenefit-EB3501.json');
    const s = summarizeAdjudicated(eob);
    expect(s.decision).toBe('error');
    expect(s.reasons.map((r) => r.display)).toContain(eob.processNote![0]!.text);
    const cr = example<ClaimResponse>('ClaimResponse-R3502.json');
    const r = summarizeAdjudicated(cr);
    expect(r.payment?.adjustment?.value).toBe(cents([cr.payment!.adjustment!.value!]));
    expect(r.reasons).toContainEqual(
      expect.objectContaining({ kind: 'payment-adjustment', code: cr.payment!.adjustmentReason!.coding![0]!.code }),
    );
  });

  it('sums Synthea line amounts when the EOB publishes only a submitted total (FIN-35, VIEW-03)', () => {
    const { bundle } = loadSyntheaBundles()[0]!;
    const eobs = bundle
      .entry!.map((e) => e.resource)
      .filter((r): r is ExplanationOfBenefit => r?.resourceType === 'ExplanationOfBenefit');
    for (const eob of eobs) {
      const s = summarizeAdjudicated(eob);
      const line = (suffix: string) => linesOf(eob.item, `https://bluebutton.cms.gov/resources/variables/${suffix}`);
      expect(s.billed?.value).toBe(cents([totalOf(eob, 'submitted')!]));
      if (line('line_alowd_chrg_amt').length > 0) {
        expect(s.allowed?.value).toBe(cents(line('line_alowd_chrg_amt')));
        expect(s.paid?.value).toBe(cents(line('line_prvdr_pmt_amt')));
        expect(s.patientResponsibility?.value).toBe(
          cents([...line('line_coinsrnc_amt'), ...line('line_bene_ptb_ddctbl_amt')]),
        );
      } else {
        expect(s.paid?.value).toBe(cents([eob.payment!.amount!.value!]));
        expect(s.patientResponsibility).toBeNull();
      }
    }
  });
});

describe('claim rows', () => {
  it('groups Claim 100150 with the EOBs that name it and the ClaimResponse those EOBs name', () => {
    const claim = example<Claim>('Claim-100150.json');
    const eobs = [
      example<ExplanationOfBenefit>('ExplanationOfBenefit-EB3500.json'),
      example<ExplanationOfBenefit>('ExplanationOfBenefit-EB3501.json'),
    ];
    const cr = example<ClaimResponse>('ClaimResponse-R3500.json');
    const orphan = example<ClaimResponse>('ClaimResponse-R3502.json');
    const rows = toClaimRows({
      claims: [claim],
      eobs,
      claimResponses: [cr, orphan],
      names: (k) => (k === 'Organization/1' ? 'Happy Valley Clinic' : undefined),
    });
    const row = rows.find((r) => r.key === `Claim/${claim.id}`)!;
    expect(row.adjudications.map((a) => `${a.resourceType}/${a.id}`).sort()).toEqual(
      ['ClaimResponse/R3500', 'ExplanationOfBenefit/EB3500', 'ExplanationOfBenefit/EB3501'].sort(),
    );
    expect(row.provider).toEqual({ reference: 'Organization/1', name: 'Happy Valley Clinic' });
    expect(rows.find((r) => r.key === `ClaimResponse/${orphan.id}`)?.claim).toBeNull();
  });

  it('hides allowed amounts and payment adjustments from the agent shape (HIPAA-07)', () => {
    const cr = example<ClaimResponse>('ClaimResponse-R3502.json');
    const [row] = toClaimRows({ claims: [], eobs: [], claimResponses: [cr] });
    const agent = toAgentClaimRow(row!) as unknown as Record<string, unknown>;
    for (const hidden of ['allowed', 'billed', 'paid', 'contractualAdjustment'])
      expect(agent).not.toHaveProperty(hidden);
    expect(agent.patientResponsibility).toEqual(row!.patientResponsibility);
    expect(JSON.stringify(agent)).not.toContain('payment-adjustment');
    expect(JSON.stringify(agent)).not.toContain(cr.payment!.adjustmentReason!.coding![0]!.display);
  });
});

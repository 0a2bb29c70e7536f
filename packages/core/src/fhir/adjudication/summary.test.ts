import type { Claim, ClaimResponse, CodeableConcept, ExplanationOfBenefit } from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { CARC_SYSTEM, GROUP_CODE_SYSTEM } from './code-tables';
import { hl7Examples, syntheaEobs, syntheaPharmacyClaims } from './fixtures.testing';
import { summarizeAdjudication } from './summary';

// Expected values are computed here straight from the fixture JSON with plain arithmetic (floats summed,
// rounded to cents once), independently of the code under test.
const cents = (v: number) => Math.round(v * 100);
const BB = 'https://bluebutton.cms.gov/resources/variables/';

type Adj = { category: CodeableConcept; amount?: { value?: number } };
type Node = { adjudication?: Adj[]; detail?: Node[]; subDetail?: Node[] };
const code = (c: CodeableConcept) => c.coding?.[0]?.code ?? '';

function nodeSum(node: Node, codes: string[]): number | undefined {
  const own = (node.adjudication ?? []).filter(
    (a) => codes.includes(code(a.category)) && a.amount?.value !== undefined,
  );
  if (own.length > 0) return own.reduce((s, a) => s + (a.amount?.value ?? 0), 0);
  const nested = [...(node.detail ?? []), ...(node.subDetail ?? [])]
    .map((n) => nodeSum(n, codes))
    .filter((v) => v !== undefined);
  return nested.length > 0 ? nested.reduce((s, v) => s + (v ?? 0), 0) : undefined;
}

function expectedAmount(resource: ExplanationOfBenefit | ClaimResponse, codes: string[]): number | undefined {
  const totals = (resource.total ?? []).filter((t) => codes.includes(code(t.category)));
  if (totals.length > 0) return cents(totals.reduce((s, t) => s + (t.amount.value ?? 0), 0));
  const items = [...(resource.item ?? []), ...(resource.addItem ?? [])] as Node[];
  const sums = items.map((i) => nodeSum(i, codes)).filter((v) => v !== undefined);
  return sums.length > 0 ? cents(sums.reduce((s, v) => s + (v ?? 0), 0)) : undefined;
}

describe('summarizeAdjudication over every Synthea EOB (FIN-30, FIN-35, VIEW-03)', () => {
  const all = syntheaEobs();

  it('finds the 130 EOBs of the fixture set', () => {
    expect(all.length).toBe(130);
  });

  it.each(all.map((f) => [f.eob.id, f] as const))(
    'summarises EOB %s with amounts that match its JSON',
    (_id, { eob, claim }) => {
      const s = summarizeAdjudication(eob, claim);
      const items = (eob.item ?? []) as Node[];
      const line = (v: string) => items.reduce((sum, i) => sum + (nodeSum(i, [BB + v]) ?? 0), 0);
      const adjudicated = items.some((i) => (i.adjudication ?? []).length > 0);

      expect(s.amounts.billed?.minor).toBe(expectedAmount(eob, ['submitted']));
      expect(s.currency).toBe('USD');
      if (adjudicated) {
        expect(s.amounts.paid?.minor).toBe(cents(line('line_prvdr_pmt_amt')));
        // The fixture's own payment equals the line payments: the summary must agree with both.
        expect(s.amounts.paid?.minor).toBe(cents(eob.payment?.amount?.value ?? Number.NaN));
        expect(s.amounts.allowed?.minor).toBe(cents(line('line_alowd_chrg_amt')));
        expect(s.amounts.coinsurance?.minor).toBe(cents(line('line_coinsrnc_amt')));
        expect(s.amounts.patientResponsibility?.minor).toBe(
          cents(line('line_coinsrnc_amt') + line('line_bene_ptb_ddctbl_amt')),
        );
        expect(s.patientResponsibilitySource).toBe('cost-share');
        const difference =
          cents(line('line_alowd_chrg_amt')) -
          cents(line('line_prvdr_pmt_amt') + line('line_coinsrnc_amt') + line('line_bene_ptb_ddctbl_amt'));
        expect(s.reconciliation.adjustmentsBasis).toBe('billed-minus-allowed');
        expect(s.reconciliation.difference?.minor).toBe(difference);
        expect(s.reconciliation.status).toBe(difference === 0 ? 'balanced' : 'unbalanced');
      } else {
        expect(s.amounts.paid?.minor).toBe(cents(eob.payment?.amount?.value ?? Number.NaN));
        expect(s.amountSources.paid).toBe('payment');
        // Nothing explains the gap between billed and paid: reported, not hidden.
        expect(s.reconciliation.status).toBe('insufficient-data');
        expect(s.reconciliation.difference?.minor).toBe(
          (expectedAmount(eob, ['submitted']) ?? 0) - (s.amounts.paid?.minor ?? 0),
        );
      }
      expect(s.lines.length).toBe(items.length);
      expect(s.denied).toBe(false);
    },
  );
});

describe('summarizeAdjudication over the HL7 ClaimResponse and EOB examples (FIN-20, FIN-21)', () => {
  const examples = [
    ...hl7Examples<ClaimResponse>('ClaimResponse'),
    ...hl7Examples<ExplanationOfBenefit>('ExplanationOfBenefit'),
  ];

  it('covers every example file', () => {
    expect(examples.map((e) => e.file).sort()).toEqual([
      'ClaimResponse-R3500.json',
      'ClaimResponse-R3501.json',
      'ClaimResponse-R3502.json',
      'ClaimResponse-R3503.json',
      'ClaimResponse-UR3503.json',
      'ExplanationOfBenefit-EB3500.json',
      'ExplanationOfBenefit-EB3501.json',
    ]);
  });

  it.each(examples.map((e) => [e.file, e.resource] as const))(
    'summarises %s from header or item level',
    (_file, resource) => {
      const s = summarizeAdjudication(resource);
      expect(s.amounts.billed?.minor).toBe(expectedAmount(resource, ['submitted']));
      expect(s.amounts.allowed?.minor).toBe(expectedAmount(resource, ['eligible']));
      expect(s.amounts.copay?.minor).toBe(expectedAmount(resource, ['copay']));
      const benefit =
        expectedAmount(resource, ['benefit']) ??
        (resource.payment?.amount?.value !== undefined ? cents(resource.payment.amount.value) : undefined);
      expect(s.amounts.paid?.minor).toBe(benefit);
      expect(s.outcome).toBe(resource.outcome);
      expect(s.disposition).toBe(resource.disposition);
      expect(s.processNotes.map((n) => n.text)).toEqual((resource.processNote ?? []).map((n) => n.text));
      const rec = s.reconciliation;
      if (rec.status === 'balanced') expect(rec.difference?.minor).toBe(0);
      if (rec.status === 'unbalanced') {
        const billed = s.amounts.billed?.minor ?? 0;
        const expected =
          billed -
          (s.amounts.paid?.minor ?? 0) -
          (rec.adjustments?.minor ?? 0) -
          (s.amounts.patientResponsibility?.minor ?? 0);
        expect(rec.difference?.minor).toBe(expected);
        expect(expected).not.toBe(0);
      }
      // FIN-21: an error outcome is a denial signal and never reads as paid.
      expect(s.denialSignals.includes('outcome-error')).toBe(resource.outcome === 'error');
    },
  );

  it('keeps each error code with the line it points to (FIN-21)', () => {
    const r3501 = examples.find((e) => e.file === 'ClaimResponse-R3501.json')?.resource as ClaimResponse;
    const s = summarizeAdjudication(r3501);
    expect(s.errors).toEqual(
      (r3501.error ?? []).map((e) => ({
        code: expect.objectContaining({ code: e.code.coding?.[0]?.code, system: e.code.coding?.[0]?.system }),
        itemSequence: e.itemSequence,
        detailSequence: e.detailSequence,
      })),
    );
    expect(s.denied).toBe(true);
  });

  it('keeps a legacy adjudication-reason coding system-qualified with its display (CS-03, FIN-37)', () => {
    const r3500 = examples.find((e) => e.file === 'ClaimResponse-R3500.json')?.resource as ClaimResponse;
    const reason = r3500.item?.[0]?.adjudication.find((a) => a.reason)?.reason?.coding?.[0];
    const s = summarizeAdjudication(r3500);
    expect(s.adjustments).toHaveLength(1);
    expect(s.adjustments[0]?.otherReasons[0]).toMatchObject({
      system: reason?.system,
      code: reason?.code,
      display: reason?.display,
    });
    expect(s.adjustments[0]?.itemSequence).toBe(1);
  });
});

describe('summarizeAdjudication with the Claim a ClaimResponse answers', () => {
  it('takes billed amounts and line services from the Claim when the response does not repeat them', () => {
    const response = structuredClone(
      hl7Examples<ClaimResponse>('ClaimResponse').find((e) => e.file === 'ClaimResponse-R3502.json')
        ?.resource as ClaimResponse,
    );
    const wanted = response.request?.identifier?.value;
    const claim = hl7Examples<Claim>('Claim').find((e) =>
      e.resource.identifier?.some((i) => i.value === wanted),
    )?.resource;
    expect(claim).toBeDefined();
    response.total = response.total?.filter((t) => code(t.category) !== 'submitted');
    const s = summarizeAdjudication(response, claim);
    const expectedBilled =
      claim?.total?.value ??
      (response.item ?? []).reduce(
        (sum, i) => sum + (claim?.item?.find((ci) => ci.sequence === i.itemSequence)?.net?.value ?? 0),
        0,
      );
    expect(s.amountSources.billed).toBe('claim');
    expect(s.amounts.billed?.minor).toBe(cents(expectedBilled));
    const first = claim?.item?.find((i) => i.sequence === response.item?.[0]?.itemSequence);
    expect(s.lines[0]?.service?.code).toBe(first?.productOrService.coding?.[0]?.code);
    expect(s.lines[0]?.servicedDate).toBe(first?.servicedDate);
  });

  it('shows the VIEW-01 header of an EOB as published', () => {
    const eob = hl7Examples<ExplanationOfBenefit>('ExplanationOfBenefit').find(
      (e) => e.file === 'ExplanationOfBenefit-EB3500.json',
    )?.resource as ExplanationOfBenefit;
    const s = summarizeAdjudication(eob);
    expect(s.header.type?.code).toBe(eob.type.coding?.[0]?.code);
    expect(s.header.focalCoverage).toBe(eob.insurance?.find((i) => i.focal)?.coverage.reference);
    expect(s.header.insurer).toBe(eob.insurer.reference);
  });
});

describe('summarizeAdjudication rules on edited fixtures', () => {
  const base = () =>
    structuredClone(
      hl7Examples<ExplanationOfBenefit>('ExplanationOfBenefit').find(
        (e) => e.file === 'ExplanationOfBenefit-EB3500.json',
      )?.resource as ExplanationOfBenefit,
    );

  it('keeps unknown CARCs as bare codes and looks known ones up with their group (FIN-37, CS-02)', () => {
    const eob = base();
    eob.item?.[0]?.adjudication?.push(
      {
        category: { coding: [{ code: 'adjustmentreason' }] },
        reason: {
          coding: [
            { system: CARC_SYSTEM, code: 'ZZ9' },
            { system: GROUP_CODE_SYSTEM, code: 'CO' },
          ],
        },
        amount: { value: 5, currency: 'USD' },
      },
      {
        category: { coding: [{ code: 'adjustmentreason' }] },
        reason: {
          coding: [
            { system: CARC_SYSTEM, code: '45' },
            { system: GROUP_CODE_SYSTEM, code: 'CO' },
          ],
        },
        amount: { value: 10.5, currency: 'USD' },
      },
    );
    const s = summarizeAdjudication(eob);
    const unknown = s.adjustments.find((a) => a.carc?.code === 'ZZ9');
    expect(unknown?.carc).toEqual({ system: CARC_SYSTEM, code: 'ZZ9', display: 'ZZ9', known: false });
    const known = s.adjustments.find((a) => a.carc?.code === '45');
    expect(known?.carc?.known).toBe(true);
    expect(known?.group?.display).toBe('Contractual obligation');
    expect(known?.amount?.value).toBe('10.50');
    expect(s.reconciliation.adjustmentsBasis).toBe('coded-adjustments');
    expect(s.reconciliation.adjustments?.minor).toBe(1550);
  });

  it('prefers header totals over item sums and falls back to items (FIN-35)', () => {
    const eob = base();
    const withHeader = summarizeAdjudication(eob);
    expect(withHeader.amountSources.billed).toBe('header');
    delete eob.total;
    const itemsOnly = summarizeAdjudication(eob);
    expect(itemsOnly.amountSources.paid).toBe('item');
    const benefit = (eob.item ?? []).reduce((s, i) => s + (nodeSum(i as Node, ['benefit']) ?? 0), 0);
    expect(itemsOnly.amounts.paid?.minor).toBe(cents(benefit));
  });

  it('derives patient responsibility from PR adjustments when memberliability is absent (X835-03)', () => {
    const eob = base();
    eob.item?.[0]?.adjudication?.push(
      {
        category: { coding: [{ code: 'adjustmentreason' }] },
        reason: {
          coding: [
            { system: CARC_SYSTEM, code: '1' },
            { system: GROUP_CODE_SYSTEM, code: 'PR' },
          ],
        },
        amount: { value: 7.25, currency: 'USD' },
      },
      {
        category: { coding: [{ code: 'adjustmentreason' }] },
        reason: {
          coding: [
            { system: CARC_SYSTEM, code: '3' },
            { system: GROUP_CODE_SYSTEM, code: 'PR' },
          ],
        },
        amount: { value: 2.75, currency: 'USD' },
      },
    );
    const s = summarizeAdjudication(eob);
    expect(s.patientResponsibilitySource).toBe('patient-adjustments');
    expect(s.amounts.patientResponsibility?.value).toBe('10.00');
  });

  it('reads pharmacy reject reasons as NCPDP codes, apart from CARCs (FIN-32)', () => {
    const claim = syntheaPharmacyClaims()[0];
    expect(claim).toBeDefined();
    const eob: ExplanationOfBenefit = {
      resourceType: 'ExplanationOfBenefit',
      status: 'active',
      type: claim?.type as CodeableConcept,
      use: 'claim',
      patient: claim?.patient ?? {},
      created: claim?.created ?? '2020-01-01',
      insurer: { display: 'plan' },
      provider: claim?.provider ?? {},
      outcome: 'complete',
      insurance: [{ focal: true, coverage: { display: 'plan' } }],
      item: [
        {
          sequence: 1,
          productOrService: claim?.item?.[0]?.productOrService ?? { text: 'drug' },
          adjudication: [
            { category: { coding: [{ code: 'submitted' }] }, amount: claim?.total ?? { value: 0, currency: 'USD' } },
            {
              category: {
                coding: [
                  {
                    system: 'http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudicationDiscriminator',
                    code: 'rejectreason',
                  },
                ],
              },
              reason: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/NCPDPRejectCode', code: '70' }] },
            },
          ],
        },
      ],
    };
    const s = summarizeAdjudication(eob, claim);
    expect(s.rejectReasons).toEqual([
      { itemSequence: 1, reason: expect.objectContaining({ code: '70', display: '70', known: false }) },
    ]);
    expect(s.adjustments).toHaveLength(0);
    expect(s.denialSignals).toContain('pharmacy-reject');
    expect(s.amounts.billed?.minor).toBe(cents(claim?.total?.value ?? Number.NaN));
  });

  it('marks a zero payment with a denial CARC as denied', () => {
    const eob = base();
    eob.total = [
      { category: { coding: [{ code: 'submitted' }] }, amount: { value: 100, currency: 'USD' } },
      { category: { coding: [{ code: 'benefit' }] }, amount: { value: 0, currency: 'USD' } },
    ];
    eob.adjudication = [
      {
        category: { coding: [{ code: 'adjustmentreason' }] },
        reason: {
          coding: [
            { system: CARC_SYSTEM, code: '197' },
            { system: GROUP_CODE_SYSTEM, code: 'CO' },
          ],
        },
        amount: { value: 100, currency: 'USD' },
      },
    ];
    const s = summarizeAdjudication(eob);
    expect(s.denialSignals).toEqual(['zero-paid-with-denial-reason']);
    expect(s.denied).toBe(true);
  });

  it('links a line to its processNote by noteNumber (FIN-36)', () => {
    const eob = base();
    eob.processNote = [{ number: 7, text: 'Line 1 exceeds the frequency limit' }];
    if (eob.item?.[0]) eob.item[0].noteNumber = [7];
    const s = summarizeAdjudication(eob);
    expect(s.lines[0]?.notes).toEqual(['Line 1 exceeds the frequency limit']);
  });

  it('leaves amounts in a second currency out of the sums and says so', () => {
    const eob = base();
    eob.item?.[0]?.adjudication?.push({
      category: { coding: [{ code: 'copay' }] },
      amount: { value: 5, currency: 'EUR' },
    });
    const s = summarizeAdjudication(eob);
    expect(s.amounts.copay).toBeUndefined();
    expect(s.problems).toHaveLength(1);
  });
});

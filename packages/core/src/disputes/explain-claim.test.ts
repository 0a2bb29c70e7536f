import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClaimResponse } from 'fhir/r4';
import { describe, expect, it } from 'vitest';
import { hl7Examples, syntheaEobs } from '../fhir/adjudication/fixtures.testing';
import { formatMoney } from '../fhir/adjudication/money';
import { summarizeAdjudication } from '../fhir/adjudication/summary';
import { import835 } from '../x12/import-835';
import { explainClaim, toAgentView, toBillingView } from './explain-claim';

const REMIT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../test/data/x12/remit-multi-claim.835');
const summaries = import835(readFileSync(REMIT, 'utf8')).eobs.map((e) => summarizeAdjudication(e));

describe('explainClaim for a patient', () => {
  it('says what was billed, paid and owed, and why, in plain words', () => {
    const s = summaries[0];
    if (!s) throw new Error('fixture');
    const { sentences, warning } = explainClaim(s, { audience: 'patient' });
    expect(sentences).toContain(`The provider billed ${formatMoney(s.amounts.billed as never)}.`);
    expect(sentences).toContain(`The plan paid ${formatMoney(s.amounts.paid as never)}.`);
    const owes = sentences.find((t) => t.startsWith('You owe'));
    expect(owes).toContain(formatMoney(s.amounts.patientResponsibility as never));
    expect(owes).toContain('toward your deductible');
    expect(owes).toContain('coinsurance');
    expect(sentences.join(' ')).toContain('write off');
    expect(sentences.join(' ')).not.toMatch(/CO-45|CARC/);
    expect(warning).toBeUndefined();
  });

  it('explains a denial with the reason in plain words', () => {
    const denied = summaries.find((s) => s.denied);
    if (!denied) throw new Error('fixture');
    const { sentences } = explainClaim(denied, { audience: 'patient' });
    expect(sentences[0]).toBe('The plan denied this claim.');
    expect(sentences).toContain('The plan paid nothing.');
    expect(sentences.join(' ')).toContain('Prior approval was required');
  });

  it('gives billing staff the codes', () => {
    const denied = summaries.find((s) => s.denied);
    if (!denied) throw new Error('fixture');
    expect(explainClaim(denied, { audience: 'billing' }).sentences.join(' ')).toContain('CO-197');
  });

  it('is deterministic', () => {
    const s = summaries[2];
    if (!s) throw new Error('fixture');
    expect(explainClaim(s, { audience: 'patient' })).toEqual(explainClaim(structuredClone(s), { audience: 'patient' }));
  });

  it('shows a warning line when the amounts do not add up', () => {
    const r3500 = hl7Examples<ClaimResponse>('ClaimResponse').find((e) => e.file.includes('R3500'))
      ?.resource as ClaimResponse;
    const s = summarizeAdjudication(r3500);
    expect(s.reconciliation.status).toBe('unbalanced');
    const { warning } = explainClaim(s, { audience: 'patient' });
    expect(warning).toContain(formatMoney(s.reconciliation.difference as never));
    expect(warning).toMatch(/^Warning: /);
  });

  it('warns too when the data cannot show the amounts add up', () => {
    const thin = syntheaEobs()
      .map(({ eob, claim }) => summarizeAdjudication(eob, claim))
      .find((s) => s.reconciliation.status === 'insufficient-data');
    if (!thin) throw new Error('fixture');
    expect(explainClaim(thin, { audience: 'patient' }).warning).toMatch(/not send enough detail/);
  });

  it('reads error outcomes, error lines and process notes aloud (FIN-21)', () => {
    const r3501 = hl7Examples<ClaimResponse>('ClaimResponse').find((e) => e.file.includes('R3501'))
      ?.resource as ClaimResponse;
    const text = explainClaim(summarizeAdjudication(r3501), { audience: 'patient' }).sentences.join(' ');
    expect(text).toContain('could not process');
    expect(text).toContain(`line ${r3501.error?.[0]?.itemSequence}`);
    expect(text).toContain(r3501.processNote?.[0]?.text as string);
  });
});

describe('agent view is minimum necessary', () => {
  it('keeps status, patient responsibility and plain reasons, and drops allowed amounts and contract adjustments', () => {
    const s = summaries[0];
    if (!s) throw new Error('fixture');
    const view = toAgentView(s);
    expect(view).toMatchObject({
      status: 'paid',
      patientResponsibility: s.amounts.patientResponsibility,
      amountsUnverified: false,
    });
    const json = JSON.stringify(view);
    expect(json).not.toContain('allowed');
    expect(json).not.toContain(s.amounts.allowed?.value as string);
    expect(json).not.toMatch(/"CO"|"45"/);
    expect(toBillingView(s).amounts.allowed).toEqual(s.amounts.allowed);
  });

  it('never shows a partial outcome as paid (FIN-21)', () => {
    const partial = summaries.find((s) => s.paymentStatus === 'partiallypaid');
    expect(partial && toAgentView(partial).status).toBe('partially-paid');
    const s = structuredClone(summaries[0]);
    if (!s) throw new Error('fixture');
    s.outcome = 'partial';
    delete s.paymentStatus;
    expect(toAgentView(s).status).toBe('partially-paid');
  });
});

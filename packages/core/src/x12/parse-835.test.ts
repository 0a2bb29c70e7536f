import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors';
import { CARC_SYSTEM, GROUP_CODE_SYSTEM, RARC_SYSTEM } from '../fhir/adjudication/code-tables';
import { summarizeAdjudication } from '../fhir/adjudication/summary';
import { X12FormatError } from './envelope';
import { import835 } from './import-835';
import { parse835 } from './parse-835';
import { eobMatchesClaimIdentifier, PATIENT_CONTROL_NUMBER_SYSTEM, remittanceToEobs } from './remittance-to-eob';

const FILE = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../test/data/x12/remit-multi-claim.835');
const text = readFileSync(FILE, 'utf8');

/** Segments of the test file as written (one per line), for expectations computed from the file itself. */
const segments = text
  .split('~')
  .map((s) => s.trim())
  .filter(Boolean)
  .map((s) => s.split('*'));
const clps = segments.filter((s) => s[0] === 'CLP');

function rejectionOf(edi: string): X12FormatError {
  try {
    parse835(edi);
  } catch (e) {
    if (e instanceof X12FormatError) return e;
    throw e;
  }
  throw new Error('expected the file to be rejected');
}

describe('parse835 on a multi-claim remittance (X835-04/05)', () => {
  const [remit] = parse835(text);

  it('reads one transaction set with every CLP loop', () => {
    expect(remit?.claims.map((c) => c.patientControlNumber)).toEqual(clps.map((c) => c[1]));
    expect(remit?.claims.map((c) => c.status)).toEqual(clps.map((c) => c[2]));
    expect(remit?.payerId).toBe(segments.find((s) => s[0] === 'N1' && s[1] === 'PR')?.[4]);
    expect(remit?.payment.date).toBe('2023-11-15');
  });

  it('keeps claim-level and line-level CAS apart and reads LQ*HE remarks', () => {
    const denied = remit?.claims.find((c) => c.status === '4');
    expect(denied?.lines).toHaveLength(0);
    expect(denied?.adjustments.map((a) => `${a.group}-${a.reason}`)).toEqual(['CO-197']);
    expect(denied?.remarks).toEqual(['MA130', 'N290']);
    const first = remit?.claims[0];
    expect(first?.adjustments).toHaveLength(0);
    expect(first?.lines[0]?.adjustments.map((a) => `${a.group}-${a.reason}:${a.amount}`)).toEqual([
      'CO-45:50',
      'PR-1:50',
      'PR-2:20',
    ]);
    expect(first?.lines[1]?.remarks).toEqual(['N130']);
    expect(first?.lines[0]?.serviceDate).toBe('2023-11-01');
  });

  it('keeps PLB out of the claims and reports it (X835-06)', () => {
    const plb = segments.find((s) => s[0] === 'PLB');
    expect(remit?.providerAdjustments).toEqual([
      expect.objectContaining({
        providerId: plb?.[1],
        reason: plb?.[3]?.split(':')[0],
        reference: plb?.[3]?.split(':')[1],
        amount: plb?.[4],
      }),
    ]);
  });

  it('finds the well-formed test file balanced at line, claim and payment level', () => {
    expect(remit?.problems).toEqual([]);
  });
});

describe('parse835 on other layouts of the same file', () => {
  it('reads a file without line breaks and reports segment positions', () => {
    const oneLine = text.replace(/~\n/g, '~');
    const [remit] = parse835(oneLine);
    expect(remit?.claims.map((c) => c.patientControlNumber)).toEqual(clps.map((c) => c[1]));
    const e = rejectionOf(oneLine.replace('SE*57*0001', 'SE*58*0001'));
    expect(e.issues[0]).toMatchObject({
      segment: 'SE',
      line: 1,
      position: segments.findIndex((s) => s[0] === 'SE') + 1,
    });
  });

  it('reads a file with CRLF line endings', () => {
    const [remit] = parse835(text.replace(/~\n/g, '~\r\n'));
    expect(remit?.claims).toHaveLength(clps.length);
    expect(remit?.problems).toEqual([]);
  });
});

describe('remittanceToEobs (X835-02..06)', () => {
  const { eobs, providerAdjustments } = import835(text);

  it('maps each CLP loop to one EOB with the payer claim number as identifier[uc]', () => {
    expect(eobs).toHaveLength(clps.length);
    eobs.forEach((eob, i) => {
      const uc = eob.identifier?.find((id) => id.type?.coding?.[0]?.code === 'uc');
      expect(uc?.value).toBe(clps[i]?.[7]);
      expect(eob.identifier?.find((id) => id.system === PATIENT_CONTROL_NUMBER_SYSTEM)?.value).toBe(clps[i]?.[1]);
    });
    expect(providerAdjustments).toHaveLength(1);
    expect(JSON.stringify(eobs)).not.toContain('PLB');
  });

  it('maps CLP totals and CAS triplets so the summary reconciles', () => {
    eobs.forEach((eob, i) => {
      const clp = clps[i] ?? [];
      const s = summarizeAdjudication(eob);
      expect(s.amounts.billed?.minor).toBe(Math.round(Number(clp[3]) * 100));
      expect(s.amounts.paid?.minor).toBe(Math.round(Number(clp[4]) * 100));
      expect(s.amounts.patientResponsibility?.minor).toBe(Math.round(Number(clp[5]) * 100));
      expect(s.reconciliation.status).toBe('balanced');
    });
  });

  it('puts CARC and group code as two codings of one adjustmentreason, RARCs beside them', () => {
    const first = eobs[0];
    const line = first?.item?.[0];
    const cas = line?.adjudication?.filter((a) => a.category.coding?.[0]?.code === 'adjustmentreason' && a.amount);
    expect(
      cas?.map((a) =>
        a.reason?.coding?.map(
          (c) => `${c.system === CARC_SYSTEM ? 'CARC' : c.system === GROUP_CODE_SYSTEM ? 'GRP' : '?'}:${c.code}`,
        ),
      ),
    ).toEqual([
      ['CARC:45', 'GRP:CO'],
      ['CARC:1', 'GRP:PR'],
      ['CARC:2', 'GRP:PR'],
    ]);
    const categories = line?.adjudication?.map((a) => a.category.coding?.[0]?.code);
    expect(categories).toEqual(
      expect.arrayContaining([
        'submitted',
        'paidtoprovider',
        'eligible',
        'deductible',
        'coinsurance',
        'memberliability',
      ]),
    );
    const remark = first?.item?.[1]?.adjudication?.find((a) => a.reason?.coding?.[0]?.system === RARC_SYSTEM);
    expect(remark?.reason?.coding?.[0]?.code).toBe('N130');
  });

  it('marks CLP02=4 as denied and a claim with a zero-paid line as partially paid', () => {
    const s = eobs.map((e) => summarizeAdjudication(e));
    const deniedIndex = clps.findIndex((c) => c[2] === '4');
    expect(s[deniedIndex]?.denied).toBe(true);
    expect(s[deniedIndex]?.denialSignals).toEqual(expect.arrayContaining(['payment-type-denied', 'x12-claim-denied']));
    expect(s.filter((x) => x.denied)).toHaveLength(1);
    expect(s.map((x) => x.paymentStatus)).toContain('partiallypaid');
  });

  it('keeps several adjustment groups of one claim (CO, PR, OA)', () => {
    const groups = new Set(
      summarizeAdjudication(eobs[2] as never)
        .adjustments.map((a) => a.group?.code)
        .filter(Boolean),
    );
    expect([...groups].sort()).toEqual(['CO', 'OA', 'PR']);
  });

  it('gives the same ids on re-import and different ids per claim', () => {
    const again = import835(text).eobs.map((e) => e.id);
    expect(again).toEqual(eobs.map((e) => e.id));
    expect(new Set(again).size).toBe(eobs.length);
    expect(eobs.every((e) => /^[A-Za-z0-9\-.]{1,64}$/.test(e.id ?? ''))).toBe(true);
    const otherPayer = remittanceToEobs(parse835(text)[0] as never, { payerId: 'OTHER' }).eobs.map((e) => e.id);
    expect(otherPayer).not.toEqual(again);
  });

  it('matches an EOB to the Claim whose identifier is the patient control number', () => {
    expect(eobMatchesClaimIdentifier(eobs[0] as never, { identifier: [{ value: clps[0]?.[1] }] })).toBe(true);
    expect(eobMatchesClaimIdentifier(eobs[0] as never, { identifier: [{ value: 'someone-else' }] })).toBe(false);
  });
});

describe('balancing problems are reported, not fixed (X835-06)', () => {
  it('flags a line whose paid amount does not match charge minus adjustments', () => {
    const edited = text.replace('SVC*HC:99214*300*180**1~', 'SVC*HC:99214*300*170**1~');
    const [remit] = parse835(edited);
    const codes = remit?.problems.map((p) => p.code);
    expect(codes).toEqual(expect.arrayContaining(['line-unbalanced']));
    const lineProblem = remit?.problems.find((p) => p.code === 'line-unbalanced');
    expect(lineProblem).toMatchObject({ segment: 'SVC', claimIndex: 0, lineIndex: 0, difference: '10.00' });
    expect(lineProblem?.line).toBe(text.split('\n').findIndex((l) => l.startsWith('SVC*HC:99214')) + 1);
  });

  it('flags a payment that does not equal claim payments minus PLB', () => {
    const [remit] = parse835(text.replace('BPR*I*685*', 'BPR*I*700*'));
    expect(remit?.problems.map((p) => p.code)).toEqual(['payment-unbalanced']);
  });
});

describe('malformed files are rejected whole, naming segment and position only (X835-07)', () => {
  const lineOf = (prefix: string) => text.split('\n').findIndex((l) => l.startsWith(prefix)) + 1;

  it('rejects a wrong SE01 segment count at the SE segment', () => {
    const e = rejectionOf(text.replace(/SE\*(\d+)\*0001/, (_m, n) => `SE*${Number(n) + 1}*0001`));
    expect(e).toBeInstanceOf(ValidationError);
    expect(e.issues[0]).toMatchObject({
      code: 'segment-count-mismatch',
      segment: 'SE',
      element: 'SE01',
      line: lineOf('SE*'),
    });
  });

  it('rejects a wrong GE01 and IEA01 count', () => {
    expect(rejectionOf(text.replace('GE*1*905', 'GE*2*905')).issues[0]).toMatchObject({
      code: 'transaction-count-mismatch',
      segment: 'GE',
    });
    expect(rejectionOf(text.replace('IEA*1*', 'IEA*3*')).issues[0]).toMatchObject({
      code: 'group-count-mismatch',
      segment: 'IEA',
    });
  });

  it('rejects control number mismatches between headers and trailers', () => {
    expect(rejectionOf(text.replace('SE*57*0001', 'SE*57*0002')).issues[0]).toMatchObject({
      code: 'control-number-mismatch',
      element: 'SE02',
    });
    expect(rejectionOf(text.replace('GE*1*905', 'GE*1*906')).issues[0]).toMatchObject({
      code: 'control-number-mismatch',
      element: 'GE02',
    });
    expect(rejectionOf(text.replace('IEA*1*000000905', 'IEA*1*000000906')).issues[0]).toMatchObject({
      code: 'control-number-mismatch',
      element: 'IEA02',
    });
  });

  it('rejects missing envelopes', () => {
    expect(rejectionOf(text.slice(text.indexOf('GS*'))).issues[0]).toMatchObject({
      code: 'missing-isa',
      segment: 'ISA',
    });
    expect(rejectionOf(text.replace(/IEA\*[^~]*~\n?/, '')).issues[0]).toMatchObject({ code: 'missing-iea' });
    expect(rejectionOf(text.replace(/GS\*[^~]*~\n/, '')).issues.map((i) => i.code)).toContain('unexpected-segment');
    expect(rejectionOf(text.replace(/GE\*[^~]*~\n/, '')).issues[0]).toMatchObject({
      code: 'missing-ge',
      segment: 'GE',
    });
    const noSt = text.replace(/ST\*[^~]*~\n/, '');
    const bprLine = noSt.split('\n').findIndex((l) => l.startsWith('BPR')) + 1;
    expect(rejectionOf(noSt).issues[0]).toMatchObject({
      code: 'unexpected-segment',
      segment: 'BPR',
      line: bprLine,
      position: bprLine,
    });
    expect(rejectionOf(text.replace(/SE\*[^~]*~\n/, '')).issues[0]).toMatchObject({
      code: 'missing-se',
      segment: 'SE',
    });
  });

  it('rejects a mixed segment terminator at the segment where it happens', () => {
    const e = rejectionOf(text.replace('DTM*405*20231114~', 'DTM*405*20231114'));
    expect(e.issues[0]).toMatchObject({ code: 'bad-segment-terminator', segment: 'DTM', line: lineOf('DTM*405') });
  });

  it('rejects a terminator that is not a delimiter and an ISA of the wrong length', () => {
    expect(rejectionOf(text.replace('*:~', '*:A')).issues[0]?.code).toBe('bad-segment-terminator');
    expect(rejectionOf(text.replace('ZZ*ACMEHEALTH     *', 'ZZ*ACMEHEALTH*')).issues[0]?.code).toBe('bad-isa');
  });

  it('rejects a transaction that is not an 835', () => {
    expect(rejectionOf(text.replace('ST*835*', 'ST*837*')).issues[0]).toMatchObject({
      code: 'not-835',
      element: 'ST01',
    });
  });

  it('never quotes values in the error', () => {
    const e = rejectionOf(text.replace('IEA*1*000000905', 'IEA*7*000000906'));
    const rendered = `${e.message} ${JSON.stringify(e.errors)} ${JSON.stringify(e.issues)}`;
    for (const value of ['000000905', '000000906', 'ACME', 'W100000001', 'PCN1001'])
      expect(rendered).not.toContain(value);
  });

  it('returns nothing when one part of the file is broken', () => {
    const broken = text.replace('CLP*PCN1003*1*800*310*60', 'CLP*PCN1003*1*8O0*310*60');
    expect(() => import835(broken)).toThrow(X12FormatError);
  });
});

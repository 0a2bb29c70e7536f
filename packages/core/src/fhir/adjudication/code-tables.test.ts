import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../errors';
import { type CodeTable, categoryKind, defaultCodeTables, loadCodeTables } from './code-tables';

const REQUIRED_CARCS = [
  '1',
  '2',
  '3',
  '4',
  '5',
  '16',
  '18',
  '22',
  '23',
  '27',
  '29',
  '45',
  '50',
  '96',
  '97',
  '109',
  '119',
  '197',
  '204',
  '242',
  '253',
];
const REQUIRED_RARCS = ['N130', 'M15', 'MA130', 'N381', 'N290'];

describe('code tables as data (CS-01, CS-05)', () => {
  it('ships the common CARCs and RARCs with a named source and version', () => {
    const { carc, rarc, groupCodes, categories } = defaultCodeTables;
    for (const code of REQUIRED_CARCS) expect(carc.codes[code]?.display, `CARC ${code}`).toBeTruthy();
    for (const code of REQUIRED_RARCS) expect(rarc.codes[code]?.display, `RARC ${code}`).toBeTruthy();
    expect(Object.keys(carc.codes).length).toBeGreaterThanOrEqual(60);
    for (const table of [carc, rarc, groupCodes, categories]) {
      expect(table.source.length).toBeGreaterThan(20);
      expect(table.version).toBeTruthy();
      expect(table.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
    expect(carc.source).toMatch(/own words/);
    expect(Object.keys(groupCodes.codes).sort()).toEqual(['CO', 'CR', 'OA', 'PI', 'PR']);
  });

  it('lets a deployment replace a table by object or by file path', () => {
    const licensed: CodeTable = {
      ...defaultCodeTables.carc,
      source: 'licensed X12 list',
      version: '2026-07',
      codes: { '45': { display: 'Licensed text' } },
    };
    expect(loadCodeTables({ carc: licensed }).carc.codes['45']?.display).toBe('Licensed text');
    const dir = mkdtempSync(join(tmpdir(), 'carc-'));
    const path = join(dir, 'rarc.json');
    writeFileSync(
      path,
      JSON.stringify({ ...defaultCodeTables.rarc, source: 'file', codes: { N130: { display: 'From file' } } }),
    );
    const tables = loadCodeTables({ rarc: path });
    expect(tables.rarc.codes.N130?.display).toBe('From file');
    expect(tables.carc).toBe(defaultCodeTables.carc);
  });

  it('rejects an override that is not a table', () => {
    expect(() => loadCodeTables({ carc: { codes: {} } as unknown as CodeTable })).toThrow(ValidationError);
  });

  it('recognises THO, CARIN BB, code-only and Blue Button category codings (FIN-33)', () => {
    const t = defaultCodeTables;
    expect(categoryKind(t, { code: 'eligible' })).toBe('eligible');
    expect(
      categoryKind(t, {
        system: 'http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication',
        code: 'memberliability',
      }),
    ).toBe('memberliability');
    expect(
      categoryKind(t, {
        system: 'https://bluebutton.cms.gov/resources/codesystem/adjudication',
        code: 'https://bluebutton.cms.gov/resources/variables/line_prvdr_pmt_amt',
      }),
    ).toBe('paidtoprovider');
    expect(categoryKind(t, { system: 'http://example.org/local', code: 'x' })).toBeUndefined();
  });
});

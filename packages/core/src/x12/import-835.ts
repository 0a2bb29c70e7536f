// One call for the importer: parse an 835 file and map all of it, or reject all of it (X835-06/07).
import { parse835, type Remittance } from './parse-835';
import { type RemittanceEobs, type RemittanceToEobOptions, remittanceToEobs } from './remittance-to-eob';

export interface Import835Result extends RemittanceEobs {
  remittances: Remittance[];
}

/** Parses and maps an 835 file; a structural error throws X12FormatError before anything is returned. */
export function import835(text: string, options: RemittanceToEobOptions = {}): Import835Result {
  const remittances = parse835(text);
  const mapped = remittances.map((r) => remittanceToEobs(r, options));
  return {
    remittances,
    eobs: mapped.flatMap((m) => m.eobs),
    providerAdjustments: mapped.flatMap((m) => m.providerAdjustments),
    problems: mapped.flatMap((m) => m.problems),
  };
}

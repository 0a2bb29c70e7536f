// X12 835 remittance import: envelope checks, parsing and mapping to ExplanationOfBenefit.
export * from './envelope';
export * from './import-835';
export * from './parse-835';
export * from './remittance-to-eob';

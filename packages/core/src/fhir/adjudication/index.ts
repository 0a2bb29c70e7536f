// Adjudication of claims: money, code tables and the financial summary of an EOB or ClaimResponse.
export * from './code-tables';
export * from './money';
export * from './summary';

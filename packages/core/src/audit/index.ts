export * from './canonical-json';
export * from './hash-chain';
export * from './record';
export * from './sealer';

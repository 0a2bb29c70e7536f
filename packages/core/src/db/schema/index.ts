export * from './audit';
export * from './enums';
export * from './sources';
export * from './sync';
export * from './tenants';
export * from './tickets';

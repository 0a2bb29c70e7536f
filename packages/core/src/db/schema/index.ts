export * from './audit';
export * from './conversations';
export * from './disputes';
export * from './enums';
export * from './sources';
export * from './sync';
export * from './tenants';
export * from './tickets';

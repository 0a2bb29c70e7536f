// Secrets at rest: the secret box (AES-256-GCM) and the stored secrets of tenants and integrations.

export { type TenantSecretName, tenantSecretNames } from '../db/schema/tenants';
export * from './secret-box';
export * from './tenant-secrets';

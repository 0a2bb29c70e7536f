// Triage: routing rules, language detection and clinical red flags for inbound messages (issue #6).
export * from './default-rules';
export * from './language';
export * from './red-flags';
export * from './routing-engine';
export * from './routing-rule';
export * from './safe-regex';
export { compileKeyword, type KeywordHit, KeywordSet, normaliseText } from './text';
export * from './triage';

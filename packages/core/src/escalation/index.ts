// Clinical escalation: Task/Communication write-back to the EHR, queued when unavailable (issue #6).
export * from './escalate-to-ehr';
export * from './safety-acknowledgement';

// Structured logs (pino) with PHI-bearing fields redacted wherever they appear.
import pino, { type Logger } from 'pino';

export type { Logger };

export const redactedPaths = [
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'token',
  '*.token',
  'body',
  '*.body',
  'subject',
  '*.subject',
  'description',
  '*.description',
  'patient',
  '*.patient',
  'name',
  '*.name',
  'birthDate',
  '*.birthDate',
  'telecom',
  '*.telecom',
  'address',
  '*.address',
  'secret',
  '*.secret',
  'privateKey',
  '*.privateKey',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'fhirdesk' },
      redact: { paths: redactedPaths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

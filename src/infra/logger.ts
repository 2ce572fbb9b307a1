import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths whose values never reach a log line: credentials, tokens and personal data.
 * Keys are matched at any of the listed depths.
 */
export const REDACTED_PATHS = [
  'password',
  'newPassword',
  'otp',
  'token',
  'accessToken',
  'refreshToken',
  'secret',
  'authorization',
  'subjectEmail',
  'subjectIp',
  'subjectName',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'variables.password',
  'variables.otp',
  'variables.refreshToken',
  'variables.input.password',
  'variables.input.subjectEmail',
  'variables.input.subjectIp',
  'variables.input.subjectName',
  '*.password',
  '*.otp',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.secret',
  '*.authorization',
  '*.subjectEmail',
  '*.subjectIp',
  '*.subjectName',
];

/** Creates the process logger: JSON lines, secrets and personal data redacted. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'vigil' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * The service's one pino logger: JSON lines on stdout. Request and response
 * bodies are never logged; the redaction below is a second line of defence
 * should a secret-bearing object ever be passed to a log call.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'mfa-service' },
      redact: {
        paths: ['secret', 'recoveryCode', 'recoveryCodes', 'deviceToken', 'token', 'sealedSecret', 'authorization',
          '*.secret', '*.recoveryCode', '*.recoveryCodes', '*.deviceToken', '*.token', '*.sealedSecret', '*.authorization'],
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

import { pino, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

/** `json`: one JSON object a line, for machines (the default). `pretty`: coloured lines for a person at a terminal. */
export type LogFormat = 'json' | 'pretty';

/**
 * The service's one pino logger: JSON lines on stdout, or with `pretty` the
 * same records drawn for reading (pino-pretty). Request and response
 * bodies are never logged; the redaction below is a second line of defence
 * should a secret-bearing object ever be passed to a log call.
 */
export function createLogger(level: string, destination?: DestinationStream, format: LogFormat = 'json'): Logger {
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
    format === 'pretty' ? prettyStream(destination) : destination,
  );
}

/** pino-pretty in this process (no worker thread), writing to `destination` or stdout. */
function prettyStream(destination: DestinationStream | undefined): DestinationStream {
  return pretty({
    destination: destination ?? 1,
    // The last lines before process.exit() must not wait in a buffer.
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
    singleLine: true,
  });
}

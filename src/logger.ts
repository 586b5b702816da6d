import { pino, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

/** `json`: one JSON object a line, for machines (the default). `pretty`: coloured lines for a person at a terminal. */
export type LogFormat = 'json' | 'pretty';

// Fields that hold a secret wherever they appear at the top level or one level down.
const SECRET_FIELDS = ['secret', 'recoveryCode', 'recoveryCodes', 'deviceToken', 'token', 'sealedSecret', 'authorization'];

// What store errors carry about the data they were sent: ioredis puts the command's keys and values
// (sealed secrets included) in `command.args`; the MongoDB driver copies the server's reply onto its
// errors (`errorResponse`, and from it `keyValue` and `errInfo`, which hold document values) and
// keeps the documents of failed writes (`writeErrors[].op`, `result`).
const STORE_ERROR_FIELDS = ['command.args', 'errorResponse', 'keyValue', 'errInfo', 'writeErrors', 'op', 'result'];
// Where a serialized error can hold them: `err` itself, errors nested in it (ioredis's lastNodeError,
// a plain-object cause) and AggregateError members; under any log key, down to three levels.
const ERROR_PLACES = ['*', '*.*', '*.*.*', '*.aggregateErrors[*]'];

/** The redaction paths of the service's logger (exported for its tests). */
export const REDACTED_PATHS: readonly string[] = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((field) => `*.${field}`),
  ...ERROR_PLACES.flatMap((place) => STORE_ERROR_FIELDS.map((field) => `${place}.${field}`)),
];

/**
 * The service's one pino logger: JSON lines on stdout, or with `pretty` the
 * same records drawn for reading (pino-pretty). Request and response
 * bodies are never logged; the redaction below is a second line of defence
 * should a secret-bearing object ever be passed to a log call, and keeps the
 * data a store error carries (command arguments, documents) out of the log.
 */
export function createLogger(level: string, destination?: DestinationStream, format: LogFormat = 'json'): Logger {
  return pino(
    {
      level,
      base: { service: 'mfa-service' },
      redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
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

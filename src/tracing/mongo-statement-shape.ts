/**
 * A MongoDB command as the db.query.text of its span: its shape only. Every
 * value becomes "?", and so does every key segment that is not a plain word
 * (a key like `devices.<id>.lastUsedAt` holds an id), so that no user data,
 * sealed secret or hash can reach a span attribute whatever the stores write.
 */
export function mongoStatementShape(command: Record<string, unknown>): string {
  return JSON.stringify(shape(command));
}

const WORD = /^(\$?[A-Za-z]+|_id)$/;

function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || !isPlainObject(value)) return '?';
  const shaped: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    shaped[key.split('.').map((segment) => (WORD.test(segment) ? segment : '?')).join('.')] = shape(inner);
  }
  return shaped;
}

function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

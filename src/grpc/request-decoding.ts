import { isUtf8 } from 'node:buffer';
import { createFileRegistry, fromBinary, ScalarType, type DescField, type DescMessage } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import type { ServiceDefinition } from '@grpc/grpc-js';
import type { FieldViolation } from '../domain/errors.js';
import { DESCRIPTOR_SET_BASE64 } from '../gen/descriptor-set.js';

/**
 * What a method's handler receives instead of its request when the request's
 * bytes break a rule of the proto that the generated decoder does not
 * enforce: the middleware answers it INVALID_ARGUMENT naming the fields.
 */
export class UndecodableRequest {
  constructor(readonly violations: readonly FieldViolation[]) {}
}

/**
 * The service definition with each method's request deserializer checking the
 * wire bytes against the request's descriptor first, for every string field
 * and every Timestamp, nested messages included:
 * - a string must be valid UTF-8 (proto3), else the generated decoder would
 *   turn bad bytes into U+FFFD and two different ids into one;
 * - a Timestamp must lie in 0001-01-01..9999-12-31 with nanos in
 *   0..999,999,999, else the decoder throws (INTERNAL) or shifts the time.
 * A request that breaks them, or is not protobuf at all, becomes an
 * UndecodableRequest rather than an exception, so the call is answered,
 * logged and counted like any other.
 */
export function withStrictRequestDecoding<S extends ServiceDefinition>(service: S): S {
  const checked: Record<string, unknown> = {};
  for (const [key, method] of Object.entries(service)) {
    const input = requestDescriptor(method.path);
    const decode = method.requestDeserialize;
    checked[key] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        const violations = findViolations(input, bytes);
        if (violations.length > 0) return new UndecodableRequest(violations);
        try {
          return decode(bytes);
        } catch {
          return new UndecodableRequest([{ field: '', description: 'is not a valid protobuf message' }]);
        }
      },
    };
  }
  return checked as S;
}

const TIMESTAMP = 'google.protobuf.Timestamp';
const MIN_SECONDS = -62_135_596_800n; // 0001-01-01T00:00:00Z
const MAX_SECONDS = 253_402_300_799n; // 9999-12-31T23:59:59Z
const MAX_DEPTH = 32;

/** The request message of a method path ("/mfa.v1.MfaService/CheckSession"), from the descriptors reflection serves. */
function requestDescriptor(path: string): DescMessage {
  const [, serviceName, methodName] = path.split('/');
  const method = registry().getService(serviceName ?? '')?.methods.find((m) => m.name === methodName);
  if (method === undefined) throw new Error(`no descriptor for ${path}: run npm run generate`);
  return method.input;
}

let files: ReturnType<typeof createFileRegistry> | undefined;
function registry(): ReturnType<typeof createFileRegistry> {
  return (files ??= createFileRegistry(fromBinary(FileDescriptorSetSchema, Buffer.from(DESCRIPTOR_SET_BASE64, 'base64'))));
}

/** What a length-delimited field holds that needs checking; null for anything else (bytes, packed numbers). */
type Shape = { kind: 'text' } | { kind: 'message'; message: DescMessage } | { kind: 'entry'; key: Shape | null; value: Shape | null } | null;
const TEXT: Shape = { kind: 'text' };

function shapeOf(field: DescField): Shape {
  if (field.fieldKind === 'map') {
    const value = field.message !== undefined ? { kind: 'message' as const, message: field.message } : field.scalar === ScalarType.STRING ? TEXT : null;
    return { kind: 'entry', key: field.mapKey === ScalarType.STRING ? TEXT : null, value };
  }
  if (field.message !== undefined) return { kind: 'message', message: field.message };
  return field.scalar === ScalarType.STRING ? TEXT : null;
}

/** Every rule the bytes of `message` break, at most one per field path (a proto field name path such as `a.b`). */
function findViolations(message: DescMessage, bytes: Uint8Array): FieldViolation[] {
  const found: FieldViolation[] = [];
  check({ kind: 'message', message }, bytes, '', found, 0);
  return found.filter((v, i) => found.findIndex((w) => w.field === v.field) === i);
}

function check(shape: Shape, bytes: Uint8Array, path: string, found: FieldViolation[], depth: number): void {
  if (shape === null) return;
  if (shape.kind === 'text') {
    if (!isUtf8(bytes)) found.push({ field: path, description: 'must be valid UTF-8' });
    return;
  }
  if (depth > MAX_DEPTH) {
    found.push({ field: path, description: `nests more than ${MAX_DEPTH} messages deep` });
    return;
  }
  if (shape.kind === 'message' && shape.message.typeName === TIMESTAMP) {
    const problem = timestampProblem(bytes);
    if (problem !== null) found.push({ field: path, description: problem });
    return;
  }
  const fieldAt = (n: number): { path: string; shape: Shape } | undefined => {
    if (shape.kind === 'entry') return n === 1 ? { path, shape: shape.key } : n === 2 ? { path, shape: shape.value } : undefined;
    const field = shape.message.fields.find((f) => f.number === n);
    return field && { path: path === '' ? field.name : `${path}.${field.name}`, shape: shapeOf(field) };
  };
  const reader = new BinaryReader(bytes);
  let reading = path;
  try {
    while (reader.pos < reader.len) {
      const [number, wireType] = reader.tag();
      const target = fieldAt(number);
      reading = target?.path ?? path;
      // Like the generated decoder: a field of an unexpected wire type is skipped, not read.
      if (target === undefined || target.shape === null || wireType !== WireType.LengthDelimited) reader.skip(wireType, number);
      else check(target.shape, reader.bytes(), target.path, found, depth + 1);
    }
  } catch {
    found.push({ field: reading, description: 'is not valid protobuf wire data' });
  }
}

/** Why a Timestamp's bytes are out of range, or null when they are fine. */
function timestampProblem(bytes: Uint8Array): string | null {
  const reader = new BinaryReader(bytes);
  let seconds = 0n;
  let nanos = 0;
  while (reader.pos < reader.len) {
    const [number, wireType] = reader.tag();
    if (number === 1 && wireType === WireType.Varint) seconds = BigInt(reader.int64());
    else if (number === 2 && wireType === WireType.Varint) nanos = reader.int32();
    else reader.skip(wireType, number);
  }
  if (seconds < MIN_SECONDS || seconds > MAX_SECONDS) return 'must be from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z';
  if (nanos < 0 || nanos > 999_999_999) return 'must have nanos from 0 to 999,999,999';
  return null;
}

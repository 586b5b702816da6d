import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

/**
 * Calls `/mfa.v1.MfaService/<method>` with request bytes exactly as given: what
 * the generated client cannot send (invalid UTF-8, out-of-range Timestamps,
 * broken protobuf). Resolves to the response bytes.
 */
export function callRaw(port: number, method: string, request: Uint8Array, metadata = new Metadata()): Promise<Buffer> {
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  return new Promise<Buffer>((resolve, reject) => {
    client.makeUnaryRequest(
      `/mfa.v1.MfaService/${method}`,
      (bytes: Uint8Array) => Buffer.from(bytes),
      (bytes: Buffer) => bytes,
      request,
      metadata,
      { deadline: Date.now() + 15_000 },
      (error: ServiceError | null, response?: Buffer) => {
        client.close();
        if (error) reject(error);
        else resolve(response!);
      },
    );
  });
}

/** One field of a raw request: a string given as bytes, or a Timestamp given as raw seconds and nanos. */
export type RawField = { readonly number: number; readonly bytes: Uint8Array } | { readonly number: number; readonly seconds: bigint; readonly nanos?: number };

/** Encodes fields as a protobuf message without any of the checks a generated encoder makes. */
export function rawMessage(...fields: RawField[]): Uint8Array {
  const writer = new BinaryWriter();
  for (const field of fields) {
    writer.tag(field.number, WireType.LengthDelimited);
    if ('bytes' in field) writer.bytes(field.bytes);
    else writer.fork().tag(1, WireType.Varint).int64(field.seconds).tag(2, WireType.Varint).int32(field.nanos ?? 0).join();
  }
  return writer.finish();
}

/** UTF-8 of `text`, then `tail` bytes (e.g. 0xff, which is never valid UTF-8). */
export function utf8With(text: string, ...tail: number[]): Uint8Array {
  return Buffer.concat([Buffer.from(text, 'utf8'), Buffer.from(tail)]);
}

import type { Server } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { DESCRIPTOR_SET_BASE64 } from '../gen/descriptor-set.js';

/**
 * Server reflection (v1 and v1alpha) over MfaService and Health, so grpcurl
 * can list, describe and call them. It serves the descriptors buf built (see
 * scripts/generate-descriptors.sh) rather than ones rebuilt by proto-loader,
 * which grpcurl cannot read.
 */
export function addReflection(server: Server): void {
  const fileDescriptorProtos = splitDescriptorSet(Buffer.from(DESCRIPTOR_SET_BASE64, 'base64'));
  // @grpc/reflection reads only `fileDescriptorProtos` from each entry of the package definition.
  const definition = { 'mfa.v1.MfaService': { fileDescriptorProtos } } as unknown as PackageDefinition;
  new ReflectionService(definition).addToServer(server);
}

/** The serialized FileDescriptorProtos of a FileDescriptorSet (field 1, repeated). */
function splitDescriptorSet(set: Uint8Array): Buffer[] {
  const reader = new BinaryReader(set);
  const files: Buffer[] = [];
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) files.push(Buffer.from(reader.bytes()));
    else reader.skip(wireType);
  }
  return files;
}

/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha, from @grpc/reflection), so `grpcurl` and
 * other generic tools can list and call the daemon's services without our .proto files. It serves
 * the FileDescriptorProtos that scripts/gen-proto.mjs committed beside the generated code; no .proto
 * is parsed for our services at start-up. Reflection calls need the readonly role (auth.ts).
 *
 * @grpc/reflection stays outside the bundle (scripts/bundle.mjs): it reads its own reflection.proto
 * relative to its install directory.
 */
import type { Server } from '@grpc/grpc-js';
import { fileDescriptorProto as controlDescriptor } from '../client/gen/control-grpc.js';
import { fileDescriptorProto as healthDescriptor } from '../client/gen/health-grpc.js';
import { guardForeignService, type CallDeps } from './calls.js';
import { CONTROL_SERVICE_NAME } from './health.js';

export async function addReflection(server: Pick<Server, 'addService'>, deps: CallDeps): Promise<void> {
  const { ReflectionService } = await import('@grpc/reflection');
  // The reflection service reads only `fileDescriptorProtos` of each entry (proto-loader's shape).
  const pkg = {
    [CONTROL_SERVICE_NAME]: { format: 'Protocol Buffer 3 DescriptorProto' as const, type: {}, fileDescriptorProtos: [controlDescriptor, healthDescriptor] },
  };
  new ReflectionService(pkg).addToServer({
    addService: (service, impl) => server.addService(service, guardForeignService(service, impl, deps)),
  });
}

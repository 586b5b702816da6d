import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { mongoStatementShape } from './mongo-statement-shape.js';

/**
 * Starts the OpenTelemetry SDK for traces: one span per gRPC call (server
 * side; a W3C `traceparent` in the call's metadata continues the caller's
 * trace), with child spans for each Redis command and MongoDB operation, from
 * the maintained instrumentations. Everything else comes from the SDK's
 * standard environment variables (exporter, endpoint, protocol, headers,
 * sampler, resource, batching). Only traces: metrics stay with Prometheus
 * (METRICS_PORT) and logs with pino.
 *
 * What the instrumentations would record from commands is cut down, since
 * Redis arguments and MongoDB documents carry codes, hashes and sealed
 * secrets: a Redis span names its command only, a MongoDB span the shape of
 * its command (mongoStatementShape), and no gRPC metadata is recorded.
 *
 * Returns the function that flushes and stops it.
 */
export function startTracing(env: Readonly<Record<string, string | undefined>>): () => Promise<void> {
  const sdk = new NodeSDK({
    // OTEL_SERVICE_NAME, when set, names the service instead.
    serviceName: env['OTEL_SERVICE_NAME'] ? undefined : 'mfa-service',
    instrumentations: [
      new GrpcInstrumentation({
        // Health checks come every few seconds from load balancers and orchestrators: noise.
        ignoreGrpcMethods: [/^Check$/, /^Watch$/],
      }),
      new IORedisInstrumentation({
        // Only within a traced call: the store monitor's PING every second is not one.
        requireParentSpan: true,
        dbStatementSerializer: (command) => command,
      }),
      new MongoDBInstrumentation({
        requireParentSpan: true,
        enhancedDatabaseReporting: false,
        dbStatementSerializer: mongoStatementShape,
      }),
    ],
    // Set explicitly, or the SDK would also start OTLP metric and log exporters.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return () => sdk.shutdown();
}

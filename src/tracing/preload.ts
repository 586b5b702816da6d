/**
 * Loaded ahead of the service with `node --import ./dist/tracing/preload.js
 * dist/main.js` (npm start and the Dockerfile; the tests start src/ the same
 * way): the instrumentations must patch @grpc/grpc-js, ioredis and mongodb
 * before the service imports them, and an ES module's imports are all loaded
 * before its first line runs. With tracing off (tracingRequested) it does
 * nothing and loads nothing.
 */
import { register } from 'node:module';
import { tracingRequested } from './tracing-requested.js';
import { setTracingShutdown } from './tracing-shutdown.js';

if (tracingRequested(process.env)) {
  // The loader hook that lets the instrumentations patch modules loaded with `import`, limited to those three.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, {
    data: { include: ['@grpc/grpc-js', 'ioredis', 'mongodb'] },
  });
  const { startTracing } = await import('./start-tracing.js');
  setTracingShutdown(startTracing(process.env));
}

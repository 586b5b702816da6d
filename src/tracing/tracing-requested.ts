/**
 * True when the OpenTelemetry SDK's own environment variables ask for traces:
 * an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or ..._TRACES_ENDPOINT) or a
 * traces exporter (OTEL_TRACES_EXPORTER other than `none`), and the SDK is not
 * turned off (OTEL_SDK_DISABLED). Tracing is off otherwise, and then nothing
 * of the SDK is loaded.
 *
 * These are read here rather than in config.ts because they belong to the
 * SDK, which reads them itself, and because this runs before the service's
 * modules are loaded (see preload.ts).
 */
export function tracingRequested(env: Readonly<Record<string, string | undefined>>): boolean {
  const set = (name: string) => (env[name]?.trim() ?? '') !== '';
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return false;
  const exporter = env['OTEL_TRACES_EXPORTER']?.trim().toLowerCase() ?? '';
  if (exporter === 'none') return false;
  return exporter !== '' || set('OTEL_EXPORTER_OTLP_ENDPOINT') || set('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
}

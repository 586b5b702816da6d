/**
 * How the process flushes its spans before it exits: set by preload.ts when
 * tracing is on, awaited by main.ts after the service has stopped. Kept apart
 * from the SDK so that main.ts can call it without loading the SDK.
 */
let flush: (() => Promise<void>) | null = null;

// An unreachable collector must not hold up the exit for the exporter's own 30 s timeout.
const FLUSH_LIMIT_MS = 5_000;

export function setTracingShutdown(shutdown: () => Promise<void>): void {
  flush = shutdown;
}

/** Sends the spans still buffered (for at most 5 s) and stops tracing; a no-op when tracing is off. Never throws. */
export async function shutdownTracing(): Promise<void> {
  if (flush === null) return;
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, FLUSH_LIMIT_MS);
  });
  await Promise.race([flush().catch(() => {}), limit]);
  clearTimeout(timer);
}

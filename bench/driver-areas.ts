/**
 * Which part of a MongoDB call a profile sample belongs to, by the file it ran
 * in: the areas the driver's cost is asked about (command building, implicit
 * sessions, BSON, the connection pool, server selection, the socket). For
 * `npm run bench:driver --profile`, which prints each call's CPU by area.
 */
export function driverAreaOf(url: string, functionName: string): string {
  if (url === '') {
    if (functionName === '(garbage collector)') return 'garbage collection';
    // The socket's write: one syscall per message, as libuv writes it at once when it can.
    if (/^write(Buffer|v|Utf8String|Latin1String)$/.test(functionName)) return 'socket (writes, native)';
    if (functionName === 'runMicrotasks') return 'promise jobs (runMicrotasks)';
    return functionName.startsWith('(') ? functionName : 'other native code';
  }
  if (/node_modules\/bson\/|node_modules\/mongodb\/lib\/bson\.js/.test(url)) return 'BSON (bson: serialise, parse)';
  const driver = /node_modules\/mongodb\/lib\/(.*)$/.exec(url)?.[1];
  if (driver === undefined) {
    if (url.startsWith('node:net') || url.startsWith('node:internal/stream_base') || url.startsWith('node:internal/net')) return 'socket (node:net)';
    if (url.startsWith('node:internal/process/task_queues')) return 'promise jobs (runMicrotasks)';
    if (url.startsWith('node:')) return 'node: other internals (streams, timers, events, promises)';
    return 'the bench itself';
  }
  if (driver.startsWith('sessions') || driver.startsWith('transactions')) return 'implicit sessions (sessions.js)';
  if (driver.startsWith('sdam/') || driver.startsWith('read_preference')) return 'server selection (sdam/)';
  if (driver.startsWith('cmap/wire_protocol') || driver.startsWith('cmap/commands')) return 'OP_MSG framing (cmap/commands, wire_protocol/)';
  if (driver.startsWith('cmap/connection_pool')) return 'connection pool (cmap/connection_pool)';
  if (driver.startsWith('cmap/')) return 'connection: send, await reply, events (cmap/connection)';
  if (driver.startsWith('operations/') || driver.startsWith('write_concern') || driver.startsWith('read_concern')) return 'command building (operations/)';
  if (driver.startsWith('cursor/')) return 'cursor (cursor/)';
  if (driver.startsWith('timeout') || driver.startsWith('utils')) return 'timeouts and utils (timeout.js, utils.js)';
  return `driver: other (${driver.replace(/\.js$/, '')})`;
}

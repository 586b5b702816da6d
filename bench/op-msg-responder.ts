/**
 * A trivial MongoDB wire-protocol responder, run as its own process by
 * bench/driver-cost.ts: it answers the handshake, `find` with one fixed
 * document, `update` and `findAndModify` as if one document matched, and
 * anything else with `{ ok: 1 }`, at once and without storing anything. So
 * the `mongodb` driver's own CPU per call shows with no server sharing the
 * cores. A bench tool only: it is no test double for the store contract.
 *
 * argv[2]: JSON { sessions: boolean } (advertise logicalSessionTimeoutMinutes, so the driver sends implicit sessions).
 * Prints the port it listens on, then serves until killed.
 */
import { createServer, type Socket } from 'node:net';
import { BSON, Long } from 'mongodb';

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;
const MORE_TO_COME = 1 << 1;

const options = JSON.parse(process.argv[2] ?? '{}') as { sessions?: boolean; document?: Record<string, unknown> };
// The document every find and findAndModify answers: the shape of a user's record (bench/driver-cost.ts passes one).
const document = options.document === undefined ? { _id: 'user' } : (BSON.EJSON.deserialize(options.document) as Record<string, unknown>);
let connections = 0;

function answer(command: Record<string, unknown>, connectionId: number): Record<string, unknown> {
  const name = Object.keys(command)[0]?.toLowerCase() ?? '';
  if (name === 'ismaster' || name === 'hello') {
    return {
      helloOk: true,
      ismaster: true,
      isWritablePrimary: true,
      maxBsonObjectSize: 16 * 1024 * 1024,
      maxMessageSizeBytes: 48_000_000,
      maxWriteBatchSize: 100_000,
      localTime: new Date(),
      ...(options.sessions === false ? {} : { logicalSessionTimeoutMinutes: 30 }),
      connectionId,
      minWireVersion: 0,
      maxWireVersion: 21,
      readOnly: false,
      ok: 1,
    };
  }
  const ns = `${String(command['$db'] ?? 'db')}.${String(command[Object.keys(command)[0]!])}`;
  if (name === 'find') return { cursor: { id: Long.fromNumber(0), ns, firstBatch: [document] }, ok: 1 };
  if (name === 'update') return { n: 1, nModified: 1, ok: 1 };
  if (name === 'findandmodify') return { lastErrorObject: { n: 1, updatedExisting: true }, value: document, ok: 1 };
  return { ok: 1 };
}

function header(length: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const head = Buffer.alloc(16);
  head.writeInt32LE(length, 0);
  head.writeInt32LE(requestId, 4);
  head.writeInt32LE(responseTo, 8);
  head.writeInt32LE(opCode, 12);
  return head;
}

function reply(message: Buffer, connectionId: number): Buffer | null {
  const requestId = message.readInt32LE(4);
  const opCode = message.readInt32LE(12);
  if (opCode === OP_MSG) {
    const flags = message.readUInt32LE(16);
    // Section kind 0 (the body) comes first in every message the driver sends; kind 1 sections (document sequences) are not read.
    const body = BSON.deserialize(message.subarray(21, 21 + message.readInt32LE(21)));
    if (flags & MORE_TO_COME) return null;
    const doc = BSON.serialize(answer(body, connectionId));
    const out = Buffer.concat([header(0, 0, requestId, OP_MSG), Buffer.alloc(5), doc]);
    out.writeInt32LE(out.length, 0);
    return out;
  }
  if (opCode === OP_QUERY) {
    // flags, then the collection name (a C string), skip and return counts, then the query.
    const nameEnd = message.indexOf(0, 20);
    const queryAt = nameEnd + 1 + 8;
    const query = BSON.deserialize(message.subarray(queryAt, queryAt + message.readInt32LE(queryAt)));
    const doc = BSON.serialize(answer(query, connectionId));
    const fields = Buffer.alloc(20);
    fields.writeInt32LE(1, 16); // numberReturned
    const out = Buffer.concat([header(0, 0, requestId, OP_REPLY), fields, doc]);
    out.writeInt32LE(out.length, 0);
    return out;
  }
  throw new Error(`unsupported opcode ${opCode}`);
}

function serve(socket: Socket): void {
  const connectionId = ++connections;
  let pending: Buffer = Buffer.alloc(0);
  socket.setNoDelay(true);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    const out: Buffer[] = [];
    while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
      const length = pending.readInt32LE(0);
      const answered = reply(pending.subarray(0, length), connectionId);
      if (answered !== null) out.push(answered);
      pending = pending.subarray(length);
    }
    if (out.length > 0) socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
  });
  socket.on('error', () => socket.destroy());
}

const server = createServer(serve);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address !== null ? address.port : 0}\n`);
});
process.on('SIGTERM', () => process.exit(0));

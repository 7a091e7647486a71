/**
 * A PROTOCOL-FAITHFUL FAKE KAFKA BROKER, not the real thing: Kafka (a JVM service with KRaft or
 * ZooKeeper) cannot be installed on this machine, so the connector is tested against this small
 * node:net server that answers the few requests Leakwatch sends exactly as the Kafka protocol guide
 * documents them, byte for byte, in the non-flexible versions the connector uses.
 *
 * References:
 * - framing, request header v1, response header v0, primitive types:
 *   https://kafka.apache.org/protocol#protocol_common, #protocol_types, #protocol_messages
 * - ApiVersions v0, Metadata v1 and v4, ListOffsets v1, Fetch v4 schemas:
 *   https://kafka.apache.org/protocol#The_Messages_ApiVersions (…_Metadata, …_ListOffsets, …_Fetch)
 * - error codes: https://kafka.apache.org/protocol#protocol_error_codes (3 UNKNOWN_TOPIC_OR_PARTITION,
 *   6 NOT_LEADER_OR_FOLLOWER, 35 UNSUPPORTED_VERSION)
 * - RecordBatch v2 and Record layout (varints, CRC-32C over attributes..end):
 *   https://kafka.apache.org/documentation/#recordbatch, #record
 * - SASL listeners (KIP-43): ApiVersions is answered before authentication; any other request
 *   before the SASL handshake makes the broker close the connection.
 * - a request whose size exceeds socket.request.max.bytes (100 MiB default) closes the connection,
 *   as does an unknown api key or an unsupported version of any API but ApiVersions.
 */
import { createServer, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';

export interface FakePartition {
  /** Log start offset (earliest) and log end offset (latest): records = latest − earliest. */
  earliest: number;
  latest: number;
  /** `remote`: led by a broker advertised at `remoteLeader`, which this fake never is. */
  leader?: 'self' | 'remote';
  /** Record values at offsets earliest…latest−1; default `{"seq":n}`. */
  values?: string[];
}

export interface FakeTopic {
  name: string;
  internal?: boolean;
  partitions: FakePartition[];
  /** Batches compressed with gzip (attributes bits 0–2 = 1). */
  gzip?: boolean;
}

export interface FakeKafkaOptions {
  topics: FakeTopic[];
  /** Where the other broker is advertised (never contacted by a correct client). */
  remoteLeader?: { host: string; port: number };
  /** Advertise this broker under another name/port (a container hostname) instead of 127.0.0.1. */
  advertise?: { host: string; port?: number };
  /** A SASL_PLAINTEXT listener: ApiVersions answered, anything else closes the connection. */
  sasl?: boolean;
  /** A Kafka 4.x-like broker: Metadata below v4 removed (KIP-896). */
  modern?: boolean;
}

export interface FakeKafka {
  port: number;
  /** TCP connections accepted. */
  connections(): number;
  /** Every request as `apiKey/apiVersion`, in order. */
  requests: string[];
  stop(): Promise<void>;
}

const maxRequestBytes = 100 * 1024 * 1024;
const recordsPerBatch = 10;

// [api_key, min, max] as a 2.8 broker lists them (ZooKeeper mode, client-facing listener).
function apiRanges(modern: boolean): [number, number, number][] {
  const ranges: [number, number, number][] = [
    [0, 0, 9],
    [1, modern ? 4 : 0, 12],
    [2, modern ? 1 : 0, 6],
    [3, modern ? 4 : 0, 11],
    [8, 0, 8],
    [9, 0, 7],
    [10, 0, 3],
    [11, 0, 7],
    [12, 0, 4],
    [13, 0, 4],
    [14, 0, 5],
    [15, 0, 5],
    [16, 0, 4],
    [17, 0, 1],
    [18, 0, 3],
    [19, 0, 7],
    [20, 0, 6],
  ];
  for (let key = 21; key <= 51; key++) ranges.push([key, 0, 2]);
  ranges.push([57, 0, 0], [60, 0, 0], [61, 0, 0]);
  return ranges;
}

class Writer {
  private readonly parts: Buffer[] = [];

  int8(v: number): this {
    const b = Buffer.alloc(1);
    b.writeInt8(v);
    this.parts.push(b);
    return this;
  }
  int16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.parts.push(b);
    return this;
  }
  int32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  int64(v: number | bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt(v));
    this.parts.push(b);
    return this;
  }
  string(v: string | null): this {
    if (v === null) return this.int16(-1);
    const bytes = Buffer.from(v, 'utf8');
    this.int16(bytes.length);
    this.parts.push(bytes);
    return this;
  }
  raw(b: Buffer): this {
    this.parts.push(b);
    return this;
  }
  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

class Reader {
  offset = 0;
  constructor(private readonly b: Buffer) {}
  int8(): number {
    return this.b.readInt8((this.offset += 1) - 1);
  }
  int16(): number {
    return this.b.readInt16BE((this.offset += 2) - 2);
  }
  int32(): number {
    return this.b.readInt32BE((this.offset += 4) - 4);
  }
  int64(): number {
    return Number(this.b.readBigInt64BE((this.offset += 8) - 8));
  }
  string(): string | null {
    const n = this.int16();
    if (n < 0) return null;
    return this.b.toString('utf8', this.offset, (this.offset += n));
  }
  array<T>(item: () => T): T[] {
    const n = this.int32();
    return Array.from({ length: Math.max(0, n) }, item);
  }
}

function zigzag(n: number): Buffer {
  let v = n >= 0 ? n * 2 : -n * 2 - 1;
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as RecordBatch v2 requires.
const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32c(b: Buffer): number {
  let c = 0xffffffff;
  for (const byte of b) c = (crcTable[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One RecordBatch v2 holding `values` from `baseOffset`. */
function recordBatch(baseOffset: number, values: readonly string[], gzip: boolean): Buffer {
  const records = values.map((value, i) => {
    const v = Buffer.from(value, 'utf8');
    const body = Buffer.concat([
      Buffer.from([0]), // attributes
      zigzag(0), // timestampDelta
      zigzag(i), // offsetDelta
      zigzag(-1), // key: null
      zigzag(v.length),
      v,
      zigzag(0), // headers
    ]);
    return Buffer.concat([zigzag(body.length), body]);
  });
  const plain = Buffer.concat(records);
  const payload = gzip ? gzipSync(plain) : plain;
  const timestamp = 1_700_000_000_000;
  const afterCrc = new Writer()
    .int16(gzip ? 1 : 0) // attributes
    .int32(values.length - 1) // lastOffsetDelta
    .int64(timestamp)
    .int64(timestamp)
    .int64(-1) // producerId
    .int16(-1) // producerEpoch
    .int32(-1) // baseSequence
    .int32(values.length)
    .raw(payload)
    .build();
  const tail = new Writer()
    .int32(0)
    .int8(2)
    .int32(crc32c(afterCrc) | 0)
    .raw(afterCrc)
    .build();
  return new Writer().int64(baseOffset).int32(tail.length).raw(tail).build();
}

function valuesOf(p: FakePartition): string[] {
  return (
    p.values ??
    Array.from({ length: p.latest - p.earliest }, (_, i) => JSON.stringify({ seq: p.earliest + i }))
  );
}

export async function startFakeKafka(options: FakeKafkaOptions): Promise<FakeKafka> {
  const sockets = new Set<Socket>();
  const requests: string[] = [];
  let accepted = 0;
  const selfId = 1;
  const remoteId = 2;
  let port = 0;

  const topic = (name: string | null): FakeTopic | undefined => options.topics.find((t) => t.name === name);

  function answer(apiKey: number, version: number, body: Reader): Buffer | undefined {
    if (apiKey === 18) {
      // ApiVersions: a version the broker does not know is answered in v0 with error 35.
      const w = new Writer().int16(version > 3 ? 35 : 0);
      const ranges = apiRanges(options.modern === true);
      w.int32(ranges.length);
      for (const [k, min, max] of ranges) w.int16(k).int16(min).int16(max);
      return w.build();
    }
    if (options.sasl === true) return undefined;
    if (apiKey === 3 && (version === 1 || version === 4) && (version === 4 || options.modern !== true)) {
      const names = body.array(() => body.string());
      const w = new Writer();
      if (version === 4) w.int32(0);
      const brokers: [number, string, number][] = [
        [selfId, options.advertise?.host ?? '127.0.0.1', options.advertise?.port ?? port],
      ];
      if (options.remoteLeader !== undefined)
        brokers.push([remoteId, options.remoteLeader.host, options.remoteLeader.port]);
      w.int32(brokers.length);
      for (const [id, host, p] of brokers) w.int32(id).string(host).int32(p).string(null);
      if (version === 4) w.string('fake-cluster-id');
      w.int32(selfId);
      const listed =
        names.length === 0 ? options.topics : options.topics.filter((t) => names.includes(t.name));
      w.int32(listed.length);
      for (const t of listed) {
        w.int16(0)
          .string(t.name)
          .int8(t.internal === true ? 1 : 0)
          .int32(t.partitions.length);
        t.partitions.forEach((p, index) => {
          const leader = p.leader === 'remote' ? remoteId : selfId;
          w.int16(0).int32(index).int32(leader).int32(1).int32(leader).int32(1).int32(leader);
        });
      }
      return w.build();
    }
    if (apiKey === 2 && version === 1) {
      body.int32(); // replica_id
      const asked = body.array(() => ({
        name: body.string(),
        partitions: body.array(() => ({ index: body.int32(), timestamp: body.int64() })),
      }));
      const w = new Writer().int32(asked.length);
      for (const a of asked) {
        w.string(a.name).int32(a.partitions.length);
        for (const { index, timestamp } of a.partitions) {
          const p = topic(a.name)?.partitions[index];
          if (p === undefined) w.int32(index).int16(3).int64(-1).int64(-1);
          else if (p.leader === 'remote') w.int32(index).int16(6).int64(-1).int64(-1);
          else
            w.int32(index)
              .int16(0)
              .int64(-1)
              .int64(timestamp === -2 ? p.earliest : p.latest);
        }
      }
      return w.build();
    }
    if (apiKey === 1 && version === 4) {
      body.int32(); // replica_id
      body.int32(); // max_wait_ms
      body.int32(); // min_bytes
      const maxBytes = body.int32();
      body.int8(); // isolation_level
      const asked = body.array(() => ({
        name: body.string(),
        partitions: body.array(() => ({ index: body.int32(), offset: body.int64(), maxBytes: body.int32() })),
      }));
      const w = new Writer().int32(0).int32(asked.length);
      for (const a of asked) {
        const t = topic(a.name);
        w.string(a.name).int32(a.partitions.length);
        for (const q of a.partitions) {
          const p = t?.partitions[q.index];
          if (t === undefined || p === undefined) {
            w.int32(q.index).int16(3).int64(-1).int64(-1).int32(-1).int32(-1);
            continue;
          }
          if (q.offset < p.earliest || q.offset > p.latest) {
            w.int32(q.index).int16(1).int64(p.latest).int64(p.latest).int32(-1).int32(-1); // OFFSET_OUT_OF_RANGE
            continue;
          }
          // Whole batches from the one holding fetch_offset; the first is sent even if over the limit.
          const values = valuesOf(p);
          const batches: Buffer[] = [];
          let size = 0;
          let base = p.earliest + Math.floor((q.offset - p.earliest) / recordsPerBatch) * recordsPerBatch;
          while (base < p.latest) {
            const slice = values.slice(base - p.earliest, base - p.earliest + recordsPerBatch);
            const batch = recordBatch(base, slice, t.gzip === true);
            if (batches.length > 0 && size + batch.length > Math.min(q.maxBytes, maxBytes)) break;
            batches.push(batch);
            size += batch.length;
            base += recordsPerBatch;
          }
          const records = Buffer.concat(batches);
          w.int32(q.index)
            .int16(0)
            .int64(p.latest)
            .int64(p.latest)
            .int32(0)
            .int32(records.length)
            .raw(records);
        }
      }
      return w.build();
    }
    return undefined;
  }

  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 4) {
        const size = buffer.readInt32BE(0);
        if (size < 8 || size > maxRequestBytes) {
          socket.destroy();
          return;
        }
        if (buffer.length < 4 + size) return;
        const request = new Reader(buffer.subarray(4, 4 + size));
        buffer = buffer.subarray(4 + size);
        try {
          const apiKey = request.int16();
          const version = request.int16();
          const correlationId = request.int32();
          request.string(); // client_id
          requests.push(`${apiKey}/${version}`);
          const body = answer(apiKey, version, request);
          if (body === undefined) {
            socket.destroy();
            return;
          }
          socket.write(
            new Writer()
              .int32(body.length + 4)
              .int32(correlationId)
              .raw(body)
              .build(),
          );
        } catch {
          socket.destroy();
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('no port');
  port = address.port;
  return {
    port,
    connections: () => accepted,
    requests,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}

import { gunzipSync } from 'node:zlib';
import { ProtocolError, ScopeError } from '../core/errors.js';
import { sanitizeText } from '../core/redact.js';
import type { CollectionInfo } from '../core/scan-report.js';
import type { Connector, ProbeContext, ProbeResult, ProbeTarget, RecordSink } from './connector.js';
import { probeFailure } from './network-failure.js';
import { TcpSession, type FrameReader } from './tcp-session.js';

/*
 * Kafka's binary protocol, spoken directly: https://kafka.apache.org/protocol (request/response
 * framing, primitive types, the message schemas quoted next to each parser below). Only
 * non-flexible (pre-KIP-482) versions are used so every field is a fixed-width integer or an
 * int16/int32-prefixed string or array. The probe never joins a consumer group (no JoinGroup,
 * SyncGroup, OffsetCommit): Fetch with replica_id -1 is a plain read that leaves no trace in the
 * cluster's group state.
 */

const apiKeys = { fetch: 1, listOffsets: 2, metadata: 3, apiVersions: 18 } as const;
const clientId = 'leakwatch';
// Frames larger than this are not a Kafka answer to our small requests but the first bytes of
// another protocol read as a length (HTTP's "HTTP" is 1.2 GB): other-protocol, not a byte-cap error.
const maxPlausibleFrame = 256 << 20;
// ListOffsets.timestamp sentinels (protocol guide, ListOffsets API).
const latestTimestamp = -1n;
const earliestTimestamp = -2n;
// Kafka error codes (https://kafka.apache.org/protocol#protocol_error_codes).
const errorCodes = {
  topicAuthorizationFailed: 29,
  clusterAuthorizationFailed: 31,
  saslAuthenticationFailed: 58,
};

// Sampling bounds: one Fetch answer is at most this many bytes per partition (and the byte cap),
// and a topic is read with at most this many Fetch calls, so a topic of tiny records ends quickly.
const maxPartitionFetchBytes = 1 << 20;
const maxFetchesPerTopic = 50;
// A decompressed gzip batch is cut here: a zip bomb must not exhaust memory.
const maxInflatedBytes = 8 << 20;

/** Bounded cursor over one response: every count and length is checked against what is left. */
class KafkaReader {
  private offset = 0;

  constructor(private readonly buffer: Buffer) {}

  get remaining(): number {
    return this.buffer.length - this.offset;
  }

  private need(bytes: number): void {
    if (bytes < 0 || this.offset + bytes > this.buffer.length)
      throw new ProtocolError('kafka answer is truncated or malformed');
  }

  int8(): number {
    this.need(1);
    return this.buffer.readInt8(this.offset++);
  }

  int16(): number {
    this.need(2);
    const value = this.buffer.readInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  int32(): number {
    this.need(4);
    const value = this.buffer.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  int64(): bigint {
    this.need(8);
    const value = this.buffer.readBigInt64BE(this.offset);
    this.offset += 8;
    return value;
  }

  bytes(length: number): Buffer {
    this.need(length);
    const value = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  /** STRING / NULLABLE_STRING: int16 length (-1 = null), UTF-8 bytes. */
  string(): string | null {
    const length = this.int16();
    if (length === -1) return null;
    if (length < 0) throw new ProtocolError('kafka answer has a negative string length');
    return this.bytes(length).toString('utf8');
  }

  /** ARRAY: int32 count (-1 = null); each item takes at least `minItemBytes`, which bounds the count. */
  array<T>(minItemBytes: number, item: () => T): T[] {
    const count = this.int32();
    if (count === -1) return [];
    if (count < 0 || count * minItemBytes > this.remaining)
      throw new ProtocolError(`kafka answer claims ${count} items in ${this.remaining} bytes`);
    const items: T[] = [];
    for (let i = 0; i < count; i++) items.push(item());
    return items;
  }

  /** Zigzag varint (record fields in RecordBatch v2, https://kafka.apache.org/documentation/#record). */
  varint(): number {
    let result = 0;
    for (let shift = 0; shift <= 28; shift += 7) {
      const byte = this.int8() & 0xff;
      result |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return (result >>> 1) ^ -(result & 1);
    }
    throw new ProtocolError('kafka record has an over-long varint');
  }

  /** Zigzag varlong; timestamps are skipped, so only the bytes matter. */
  skipVarlong(): void {
    for (let i = 0; i < 10; i++) if ((this.int8() & 0x80) === 0) return;
    throw new ProtocolError('kafka record has an over-long varlong');
  }
}

/**
 * Request header v1 (api_key, api_version, correlation_id, client_id) after the int32 size
 * (https://kafka.apache.org/protocol#protocol_messages).
 */
function encodeRequest(apiKey: number, apiVersion: number, correlationId: number, body: Buffer): Buffer {
  const id = Buffer.from(clientId, 'utf8');
  const header = Buffer.alloc(10 + id.length);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(apiVersion, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(id.length, 8);
  id.copy(header, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(header.length + body.length, 0);
  return Buffer.concat([size, header, body]);
}

/** Builds a request body from big-endian fields. */
class BodyWriter {
  private readonly parts: Buffer[] = [];

  int8(value: number): this {
    const b = Buffer.alloc(1);
    b.writeInt8(value, 0);
    this.parts.push(b);
    return this;
  }

  int32(value: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(value, 0);
    this.parts.push(b);
    return this;
  }

  int64(value: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(value, 0);
    this.parts.push(b);
    return this;
  }

  string(value: string): this {
    const bytes = Buffer.from(value, 'utf8');
    const b = Buffer.alloc(2);
    b.writeInt16BE(bytes.length, 0);
    this.parts.push(b, bytes);
    return this;
  }

  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function frameReader(maxBytes: number): FrameReader {
  return (buffer) => {
    // A TLS listener answers plaintext with an alert record: content type 21, version 3.x.
    if (buffer[0] === 0x15 && buffer[1] === 0x03)
      throw new ProtocolError('answer is a TLS alert: the listener wants TLS (Kafka SSL listener?)');
    if (buffer.length < 4) return undefined;
    const size = buffer.readInt32BE(0);
    if (size < 4 || size > maxPlausibleFrame) throw new ProtocolError('answer is not Kafka framing');
    if (size > maxBytes - 4) throw new ProtocolError(`kafka answer of ${size} bytes is over the byte cap`);
    return buffer.length >= 4 + size ? 4 + size : undefined;
  };
}

/** One request/response on a broker connection, correlation ids checked. */
class BrokerConnection {
  private correlationId = 0;

  private constructor(
    private readonly session: TcpSession,
    private readonly maxBytes: number,
  ) {}

  static async open(
    host: string,
    port: number,
    signal: AbortSignal,
    maxBytes: number,
  ): Promise<BrokerConnection> {
    return new BrokerConnection(await TcpSession.open({ host, port, signal, maxBytes }), maxBytes);
  }

  async call(apiKey: number, apiVersion: number, body: Buffer): Promise<KafkaReader> {
    const id = ++this.correlationId;
    const frame = await this.session.request(
      encodeRequest(apiKey, apiVersion, id, body),
      frameReader(this.maxBytes),
    );
    const reader = new KafkaReader(frame.subarray(4));
    // Response header v0: correlation_id only.
    if (reader.int32() !== id) throw new ProtocolError('answer is not Kafka (correlation id mismatch)');
    return reader;
  }

  close(): void {
    this.session.close();
  }
}

interface ApiRange {
  min: number;
  max: number;
}

/** ApiVersions v0 response: error_code, api_keys [api_key, min_version, max_version]. */
async function apiVersions(connection: BrokerConnection): Promise<Map<number, ApiRange>> {
  const reader = await connection.call(apiKeys.apiVersions, 0, Buffer.alloc(0));
  const errorCode = reader.int16();
  const ranges = new Map<number, ApiRange>();
  for (const entry of reader.array(6, () => ({
    key: reader.int16(),
    min: reader.int16(),
    max: reader.int16(),
  }))) {
    if (entry.key < 0 || entry.min < 0 || entry.min > entry.max)
      throw new ProtocolError('answer is not Kafka (ApiVersions entry out of range)');
    ranges.set(entry.key, { min: entry.min, max: entry.max });
  }
  // 35 UNSUPPORTED_VERSION still lists the broker's ranges; anything else with no list is not Kafka.
  if ((errorCode !== 0 && errorCode !== 35) || !ranges.has(apiKeys.metadata))
    throw new ProtocolError(`answer is not a Kafka ApiVersions response (error ${errorCode})`);
  return ranges;
}

function supports(ranges: Map<number, ApiRange>, key: number, version: number): boolean {
  const range = ranges.get(key);
  return range !== undefined && range.min <= version && version <= range.max;
}

/*
 * Kafka does not report its version; the API keys a broker lists tell its release from below.
 * First releases per key, from the protocol guide's API table and the KIPs that added them:
 * DescribeCluster (60, KIP-700) 2.8, DescribeUserScramCredentials (50, KIP-554) 2.7,
 * DescribeClientQuotas (48, KIP-546) 2.6, IncrementalAlterConfigs (44, KIP-339) 2.3,
 * SaslAuthenticate (36, KIP-152) 1.0, DeleteRecords (21, KIP-107) 0.11, ApiVersions (18, KIP-35) 0.10.
 */
const releaseMarkers: readonly [number, string][] = [
  [60, '2.8'],
  [50, '2.7'],
  [48, '2.6'],
  [44, '2.3'],
  [36, '1.0'],
  [21, '0.11'],
];

function versionFloor(ranges: Map<number, ApiRange>): string {
  for (const [key, release] of releaseMarkers) if (ranges.has(key)) return `>= ${release}`;
  return '>= 0.10';
}

interface Broker {
  nodeId: number;
  host: string;
  port: number;
}

interface Partition {
  errorCode: number;
  index: number;
  leader: number;
}

interface Topic {
  errorCode: number;
  name: string;
  internal: boolean;
  partitions: Partition[];
}

interface Metadata {
  brokers: Broker[];
  topics: Topic[];
}

/**
 * Metadata v1 (topics null = all): brokers [node_id, host, port, rack], controller_id, topics
 * [error_code, name, is_internal, partitions [error_code, partition_index, leader_id, replica_nodes,
 * isr_nodes]]. v4 (for brokers that dropped v1, Kafka 4.0 per KIP-896) adds throttle_time_ms first,
 * cluster_id after the brokers, and allow_auto_topic_creation in the request (false: read-only).
 */
async function metadata(connection: BrokerConnection, version: 1 | 4): Promise<Metadata> {
  const body = new BodyWriter().int32(-1);
  if (version === 4) body.int8(0);
  const reader = await connection.call(apiKeys.metadata, version, body.build());
  if (version === 4) reader.int32();
  const brokers = reader.array(12, () => {
    const nodeId = reader.int32();
    const host = reader.string() ?? '';
    const port = reader.int32();
    reader.string();
    return { nodeId, host, port };
  });
  if (version === 4) reader.string();
  reader.int32();
  const topics = reader.array(9, () => {
    const errorCode = reader.int16();
    const name = reader.string() ?? '';
    const internal = reader.int8() !== 0;
    const partitions = reader.array(18, () => {
      const partition = { errorCode: reader.int16(), index: reader.int32(), leader: reader.int32() };
      reader.array(4, () => reader.int32());
      reader.array(4, () => reader.int32());
      return partition;
    });
    return { errorCode, name, internal, partitions };
  });
  return { brokers, topics };
}

/**
 * ListOffsets v1: replica_id -1, topics [name, partitions [partition_index, timestamp]] → topics
 * [name, partitions [partition_index, error_code, timestamp, offset]]. Keys are `topic\0partition`.
 */
async function listOffsets(
  connection: BrokerConnection,
  partitions: readonly { topic: string; index: number }[],
  timestamp: bigint,
): Promise<Map<string, number>> {
  const byTopic = new Map<string, number[]>();
  for (const p of partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.index]);
  const body = new BodyWriter().int32(-1).int32(byTopic.size);
  for (const [topic, indexes] of byTopic) {
    body.string(topic).int32(indexes.length);
    for (const index of indexes) body.int32(index).int64(timestamp);
  }
  const reader = await connection.call(apiKeys.listOffsets, 1, body.build());
  const offsets = new Map<string, number>();
  reader.array(6, () => {
    const topic = reader.string() ?? '';
    reader.array(22, () => {
      const index = reader.int32();
      const errorCode = reader.int16();
      reader.int64();
      const offset = reader.int64();
      if (errorCode === 0 && offset >= 0n) offsets.set(`${topic}\0${index}`, Number(offset));
    });
  });
  return offsets;
}

interface PartitionRange {
  topic: string;
  index: number;
  earliest: number;
  latest: number;
}

/** The records of one RecordBatch v2 (https://kafka.apache.org/documentation/#recordbatch). */
function batchValues(reader: KafkaReader, onValue: (offset: number, value: Buffer) => void): boolean {
  // baseOffset int64, batchLength int32; the batch may be cut at the answer's byte limit.
  if (reader.remaining < 12) return false;
  const baseOffset = Number(reader.int64());
  const batchLength = reader.int32();
  if (batchLength < 49 || batchLength > reader.remaining) return false;
  const batch = new KafkaReader(reader.bytes(batchLength));
  batch.int32(); // partitionLeaderEpoch
  const magic = batch.int8();
  if (magic !== 2) throw new ProtocolError(`message format v${magic} is not read (RecordBatch v2 only)`);
  batch.int32(); // crc
  const attributes = batch.int16();
  batch.bytes(4 + 8 + 8 + 8 + 2 + 4); // lastOffsetDelta … baseSequence
  const count = batch.int32();
  // Control batches (bit 5) carry transaction markers, not records.
  if ((attributes & 0x20) !== 0) return true;
  let records: KafkaReader;
  const compression = attributes & 0x07;
  if (compression === 0) records = batch;
  else if (compression === 1)
    records = new KafkaReader(
      gunzipSync(batch.bytes(batch.remaining), { maxOutputLength: maxInflatedBytes }),
    );
  else return true; // snappy, lz4, zstd: no decoder here; the batch is skipped.
  if (count < 0 || count > records.remaining) throw new ProtocolError('kafka batch claims too many records');
  for (let i = 0; i < count; i++) {
    const length = records.varint();
    const record = new KafkaReader(records.bytes(length));
    record.int8(); // attributes
    record.skipVarlong(); // timestampDelta
    const offsetDelta = record.varint();
    const keyLength = record.varint();
    if (keyLength > 0) record.bytes(keyLength);
    const valueLength = record.varint();
    if (valueLength >= 0) onValue(baseOffset + offsetDelta, record.bytes(valueLength));
  }
  return true;
}

/**
 * Fetch v4: replica_id -1, max_wait_ms, min_bytes, max_bytes, isolation_level, topics [topic,
 * partitions [partition, fetch_offset, partition_max_bytes]] → throttle_time_ms, responses [topic,
 * partitions [partition_index, error_code, high_watermark, last_stable_offset, aborted_transactions
 * [producer_id, first_offset], records]]. Returns the values read and the next offset to ask for.
 */
async function fetchOnce(
  connection: BrokerConnection,
  range: PartitionRange,
  offset: number,
  maxBytes: number,
  onValue: (value: Buffer) => boolean,
): Promise<number | undefined> {
  const cap = Math.max(1024, Math.min(maxPartitionFetchBytes, maxBytes - 1024));
  const body = new BodyWriter().int32(-1).int32(0).int32(1).int32(cap).int8(1).int32(1);
  body.string(range.topic).int32(1).int32(range.index).int64(BigInt(offset)).int32(cap);
  const reader = await connection.call(apiKeys.fetch, 4, body.build());
  reader.int32();
  let next: number | undefined;
  reader.array(6, () => {
    reader.string();
    reader.array(34, () => {
      reader.int32();
      const errorCode = reader.int16();
      reader.int64();
      reader.int64();
      reader.array(16, () => reader.bytes(16));
      const size = reader.int32();
      const records = new KafkaReader(size > 0 ? reader.bytes(size) : Buffer.alloc(0));
      if (errorCode !== 0) return;
      // An object, not a `let`: the callback flips it, which flow analysis does not see.
      const state = { wanted: true };
      while (
        state.wanted &&
        batchValues(records, (recordOffset, value) => {
          if (recordOffset < offset || !state.wanted) return;
          next = recordOffset + 1;
          state.wanted = onValue(value);
        })
      );
    });
  });
  return next;
}

/** Reads up to `sampler.limit` record values per topic from the earliest offsets. */
async function sampleTopics(
  target: ProbeTarget,
  ctx: ProbeContext,
  sampler: RecordSink,
  ranges: readonly PartitionRange[],
): Promise<string> {
  let connection: BrokerConnection | undefined;
  let total = 0;
  let unreadable = 0;
  try {
    connection = await BrokerConnection.open(target.host, target.port, sampler.signal, ctx.maxBytes);
    const taken = new Map<string, number>();
    const fetches = new Map<string, number>();
    for (const range of ranges) {
      let offset = range.earliest;
      while (offset < range.latest) {
        if ((taken.get(range.topic) ?? 0) >= sampler.limit) break;
        const calls = fetches.get(range.topic) ?? 0;
        if (calls >= maxFetchesPerTopic) break;
        fetches.set(range.topic, calls + 1);
        let next: number | undefined;
        try {
          next = await fetchOnce(connection, range, offset, ctx.maxBytes, (value) => {
            sampler.add(range.topic, value.toString('utf8'));
            total++;
            const count = (taken.get(range.topic) ?? 0) + 1;
            taken.set(range.topic, count);
            return count < sampler.limit;
          });
        } catch (error) {
          // The whole answer was read before parsing failed, so the connection is still in step:
          // an old message format or a damaged batch ends this partition only.
          if (!(error instanceof ProtocolError)) throw error;
          unreadable++;
          break;
        }
        if (next === undefined || next <= offset) break;
        offset = next;
      }
    }
    const skipped = unreadable > 0 ? `; ${plural(unreadable, 'partition')} unreadable (old format)` : '';
    return `sampled ${plural(total, 'record')}${skipped}`;
  } catch (error) {
    return `sampling stopped after ${plural(total, 'record')}: ${probeFailure(error, { ...ctx, signal: sampler.signal }).detail}`;
  } finally {
    connection?.close();
  }
}

// `__consumer_offsets`, `__transaction_state`: flagged is_internal, or named so by convention.
function isInternal(topic: Topic): boolean {
  return topic.internal || topic.name.startsWith('__');
}

function isSelf(broker: Broker, target: ProbeTarget, brokers: readonly Broker[]): boolean {
  // Metadata always lists the broker that answers it: in a one-broker cluster that is the one we
  // are talking to, whatever name it advertises (a container's hostname, a mapped port).
  if (brokers.length === 1) return true;
  if (broker.port !== target.port) return false;
  const host = broker.host.toLowerCase();
  return host === target.host.toLowerCase() || host === 'localhost' || host === '127.0.0.1' || host === '::1';
}

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? '' : 's'}`;
}

export const kafkaConnector = {
  defaultPorts: [9092],
  async probe(target: ProbeTarget, ctx: ProbeContext): Promise<ProbeResult> {
    const connections: BrokerConnection[] = [];
    let ranges: Map<number, ApiRange> | undefined;
    try {
      const bootstrap = await BrokerConnection.open(target.host, target.port, ctx.signal, ctx.maxBytes);
      connections.push(bootstrap);
      ranges = await apiVersions(bootstrap);
      const server = { product: 'kafka', version: versionFloor(ranges) };
      const metadataVersion = supports(ranges, apiKeys.metadata, 1)
        ? 1
        : supports(ranges, apiKeys.metadata, 4)
          ? 4
          : undefined;
      if (metadataVersion === undefined)
        return { status: 'error', detail: 'kafka broker supports neither Metadata v1 nor v4', server };
      let meta: Metadata;
      try {
        meta = await metadata(bootstrap, metadataVersion);
      } catch (error) {
        // A SASL listener answers ApiVersions (KIP-43 allows it before authentication) and then
        // drops the connection on any other request until the client has authenticated.
        if ((error as NodeJS.ErrnoException).code === 'ECONNRESET')
          return {
            status: 'auth-required',
            detail:
              'kafka answered ApiVersions, then closed the connection at Metadata: SASL authentication required',
            server,
          };
        throw error;
      }
      const denied = meta.topics.filter((t) =>
        [
          errorCodes.saslAuthenticationFailed,
          errorCodes.topicAuthorizationFailed,
          errorCodes.clusterAuthorizationFailed,
        ].includes(t.errorCode),
      );
      if (denied.length > 0 && denied.length === meta.topics.length)
        return {
          status: 'auth-required',
          detail: `kafka refuses anonymous Metadata (error code ${denied[0]?.errorCode ?? 0})`,
          server,
        };

      // ListOffsets goes to each partition's leader; leaders elsewhere only after the scope says so.
      const notes: string[] = [];
      let approximate = false;
      const byLeader = new Map<number, { topic: string; index: number }[]>();
      for (const topic of meta.topics) {
        // Internal topics (group offsets, transaction state) are broker bookkeeping, not data.
        if (topic.errorCode !== 0 || isInternal(topic)) continue;
        for (const p of topic.partitions) {
          if (p.errorCode !== 0 && p.errorCode !== 9) continue; // 9 REPLICA_NOT_AVAILABLE still has a leader
          byLeader.set(p.leader, [...(byLeader.get(p.leader) ?? []), { topic: topic.name, index: p.index }]);
        }
      }
      const canList = supports(ranges, apiKeys.listOffsets, 1);
      if (!canList) notes.push('ListOffsets v1 unsupported: topics not sized');
      const earliest = new Map<string, number>();
      const latest = new Map<string, number>();
      const sampleRanges: PartitionRange[] = [];
      for (const [leaderId, partitions] of canList ? byLeader : []) {
        const leader = meta.brokers.find((b) => b.nodeId === leaderId);
        if (leader === undefined) {
          notes.push(`${plural(partitions.length, 'partition')} without a leader`);
          continue;
        }
        let connection: BrokerConnection | undefined;
        const self = isSelf(leader, target, meta.brokers);
        if (self) connection = bootstrap;
        else {
          const where = sanitizeText(`${leader.host}:${leader.port}`, 80);
          try {
            await ctx.checkScope(leader.host, leader.port);
          } catch {
            notes.push(`leader ${where} outside scope, not contacted`);
            continue;
          }
          try {
            connection = await BrokerConnection.open(leader.host, leader.port, ctx.signal, ctx.maxBytes);
            connections.push(connection);
          } catch (error) {
            if (error instanceof ScopeError) throw error;
            notes.push(`leader ${where}: ${probeFailure(error, ctx).detail}`);
            continue;
          }
        }
        for (const [key, value] of await listOffsets(connection, partitions, earliestTimestamp))
          earliest.set(key, value);
        for (const [key, value] of await listOffsets(connection, partitions, latestTimestamp))
          latest.set(key, value);
        if (self)
          for (const p of partitions) {
            const key = `${p.topic}\0${p.index}`;
            const from = earliest.get(key);
            const to = latest.get(key);
            if (from !== undefined && to !== undefined && to > from)
              sampleRanges.push({ ...p, earliest: from, latest: to });
          }
      }

      const collections: CollectionInfo[] = [];
      let records = 0;
      let skipped = 0;
      let internalTopics = 0;
      for (const topic of meta.topics) {
        if (isInternal(topic)) {
          internalTopics++;
          continue;
        }
        let sum = 0;
        let measured = 0;
        for (const p of topic.partitions) {
          const key = `${topic.name}\0${p.index}`;
          const from = earliest.get(key);
          const to = latest.get(key);
          if (from === undefined || to === undefined || to < from) continue;
          sum += to - from;
          measured++;
        }
        skipped += topic.partitions.length - measured;
        const name = sanitizeText(topic.name, 255);
        if (measured > 0) collections.push({ name, records: sum });
        else collections.push({ name });
        records += sum;
      }
      if (skipped > 0 || !canList) approximate = true;

      const parts = [
        `kafka ${server.version} (from ApiVersions)`,
        plural(collections.length, 'topic'),
        `${records} record${records === 1 ? '' : 's'}${approximate ? ' or more' : ''}`,
      ];
      if (internalTopics > 0) parts.push(`${plural(internalTopics, 'internal topic')} not counted`);
      if (skipped > 0) parts.push(`${plural(skipped, 'partition')} not sized`);
      parts.push(...notes);
      if (ctx.sampler !== undefined && sampleRanges.length > 0)
        parts.push(
          supports(ranges, apiKeys.fetch, 4)
            ? await sampleTopics(target, ctx, ctx.sampler, sampleRanges)
            : 'not sampled: Fetch v4 unsupported',
        );
      return {
        status: 'open',
        detail: sanitizeText(parts.join('; '), 300),
        server,
        size: { collections: collections.length, records, ...(approximate ? { approximate } : {}) },
        collections,
        ...(records === 0 && !approximate ? { indicators: ['empty' as const] } : {}),
      };
    } catch (error) {
      const failure = probeFailure(error, ctx);
      return ranges === undefined
        ? failure
        : { ...failure, server: { product: 'kafka', version: versionFloor(ranges) } };
    } finally {
      for (const connection of connections) connection.close();
    }
  },
} satisfies Connector;

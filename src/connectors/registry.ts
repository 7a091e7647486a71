import type { Protocol } from '../core/protocol.js';
import type { Connector } from './connector.js';
import { amqpConnector } from './amqp.js';
import { couchdbConnector } from './couchdb.js';
import { elasticsearchConnector } from './elasticsearch.js';
import { httpConnector, httpsConnector } from './http.js';
import { kafkaConnector } from './kafka.js';
import { kibanaConnector } from './kibana.js';
import { memcachedConnector } from './memcached.js';
import { mongodbConnector } from './mongodb.js';
import { mqttConnector } from './mqtt.js';
import { mysqlConnector } from './mysql.js';
import { natsConnector } from './nats.js';
import { postgresConnector } from './postgres.js';
import { redisConnector } from './redis.js';
import { s3Connector } from './s3.js';

/** Every protocol's connector; a protocol without one is a compile error (STYLE.md). */
export const connectors = {
  postgres: postgresConnector,
  mysql: mysqlConnector,
  redis: redisConnector,
  mqtt: mqttConnector,
  elasticsearch: elasticsearchConnector,
  http: httpConnector,
  https: httpsConnector,
  mongodb: mongodbConnector,
  couchdb: couchdbConnector,
  memcached: memcachedConnector,
  nats: natsConnector,
  amqp: amqpConnector,
  kafka: kafkaConnector,
  s3: s3Connector,
  kibana: kibanaConnector,
} satisfies Record<Protocol, Connector>;

/**
 * When several protocols answer on one port of a bare `host:port`, the first in this list that
 * reached the same status wins: Elasticsearch is HTTP too, but the more specific answer.
 */
export const detectionOrder = [
  'redis',
  'memcached',
  'postgres',
  'mysql',
  'mongodb',
  'mqtt',
  'nats',
  'amqp',
  'kafka',
  'elasticsearch',
  'kibana',
  'couchdb',
  's3',
  'https',
  'http',
] as const satisfies readonly Protocol[];

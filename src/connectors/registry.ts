import type { Protocol } from '../core/protocol.js';
import type { Connector } from './connector.js';
import { elasticsearchConnector } from './elasticsearch.js';
import { httpConnector, httpsConnector } from './http.js';
import { mqttConnector } from './mqtt.js';
import { mysqlConnector } from './mysql.js';
import { postgresConnector } from './postgres.js';
import { redisConnector } from './redis.js';

/** Every protocol's connector; a protocol without one is a compile error (STYLE.md). */
export const connectors = {
  postgres: postgresConnector,
  mysql: mysqlConnector,
  redis: redisConnector,
  mqtt: mqttConnector,
  elasticsearch: elasticsearchConnector,
  http: httpConnector,
  https: httpsConnector,
} satisfies Record<Protocol, Connector>;

/**
 * When several protocols answer on one port of a bare `host:port`, the first in this list that
 * reached the same status wins: Elasticsearch is HTTP too, but the more specific answer.
 */
export const detectionOrder = [
  'redis',
  'postgres',
  'mysql',
  'mqtt',
  'elasticsearch',
  'https',
  'http',
] as const satisfies readonly Protocol[];

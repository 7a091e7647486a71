/**
 * Protocols Leakwatch can probe today. The registry in `connectors/registry.ts` is typed against this
 * union, so adding a protocol here without a connector is a compile error.
 */
export const protocols = [
  'postgres',
  'mysql',
  'redis',
  'mqtt',
  'elasticsearch',
  'http',
  'https',
  'mongodb',
  'couchdb',
  'memcached',
  'nats',
  'amqp',
  'kafka',
  's3',
  'kibana',
] as const;
export type Protocol = (typeof protocols)[number];

/** Scheme spellings accepted in target strings that map onto another protocol's connector. */
export const protocolAliases: Readonly<Record<string, Protocol>> = {
  postgresql: 'postgres',
  mariadb: 'mysql',
  opensearch: 'elasticsearch',
  es: 'elasticsearch',
  mongo: 'mongodb',
  rabbitmq: 'amqp',
};

/** Named in DESIGN.md's target grammar but without a connector yet: a clear error beats "unknown". */
export const plannedProtocols: readonly string[] = [];

export function isProtocol(value: string): value is Protocol {
  return (protocols as readonly string[]).includes(value);
}

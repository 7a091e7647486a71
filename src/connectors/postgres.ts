import type { Connector } from './connector.js';

// Placeholder until the connector lands; reports "error" rather than pretending.
export const postgresConnector = {
  defaultPorts: [5432],
  probe() {
    return Promise.resolve({ status: 'error' as const, detail: 'postgres connector not implemented yet' });
  },
} satisfies Connector;

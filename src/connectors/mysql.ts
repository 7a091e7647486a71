import type { Connector } from './connector.js';

// Placeholder until the connector lands; reports "error" rather than pretending.
export const mysqlConnector = {
  defaultPorts: [3306],
  probe() {
    return Promise.resolve({ status: 'error' as const, detail: 'mysql connector not implemented yet' });
  },
} satisfies Connector;

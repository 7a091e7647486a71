import type { Connector } from './connector.js';

// Placeholder until the connector lands; reports "error" rather than pretending.
export const elasticsearchConnector = {
  defaultPorts: [9200],
  probe() {
    return Promise.resolve({
      status: 'error' as const,
      detail: 'elasticsearch connector not implemented yet',
    });
  },
} satisfies Connector;

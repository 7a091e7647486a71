import type { Connector } from './connector.js';

// Placeholder until the connector lands; reports "error" rather than pretending.
export const httpConnector = {
  defaultPorts: [80, 8080],
  probe() {
    return Promise.resolve({ status: 'error' as const, detail: 'http connector not implemented yet' });
  },
} satisfies Connector;

export const httpsConnector = {
  defaultPorts: [443],
  probe() {
    return Promise.resolve({ status: 'error' as const, detail: 'https connector not implemented yet' });
  },
} satisfies Connector;

import type { Connector } from './connector.js';

// Placeholder until the connector lands; reports "error" rather than pretending.
export const mqttConnector = {
  defaultPorts: [1883],
  probe() {
    return Promise.resolve({ status: 'error' as const, detail: 'mqtt connector not implemented yet' });
  },
} satisfies Connector;

/**
 * The device-telemetry broker of the story: an aedes MQTT broker on a free 127.0.0.1 port, and a
 * device gateway that publishes one retained status message per camera (from the generated
 * devices.csv) through a real MQTT client. Protected, `authenticate` refuses anonymous clients
 * (CONNACK 5, not authorized); it stays protected in the demo, a store that is watched and fine.
 */
import { createReadStream } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { Aedes, type AuthenticateError } from 'aedes';
import { connectAsync } from 'mqtt';
import { listenOnLoopback } from './loopback-server.js';

export interface TelemetryBrokerOptions {
  /** devices.csv of corpus/generate-dataset.ts. */
  devicesFile: string;
  /** Cameras published (the first rows of the file); a broker's retained set, not a data dump. */
  maxDevices: number;
  user: string;
  password: string;
}

export interface TelemetryBroker {
  port: number;
  /** Retained device messages published. */
  devices: number;
  readonly protected: boolean;
  setProtected(value: boolean): void;
  stop(): Promise<void>;
}

interface DeviceRow {
  mac: string;
  model: string;
  firmware: string;
  ssid: string;
  serial: string;
  rssi: number;
  online: boolean;
}

// devices.csv: device_mac,device_model,fw_ver,owner_email,ssid,last_seen,serial_no,device_label,local_ip,rssi,status.
// Only labels may be quoted (and hold commas), and they sit after the columns read here but before rssi.
function parseDevice(line: string): DeviceRow | undefined {
  const head = line.split(',', 7);
  const tail = line.split(',').slice(-2);
  const [mac, model, firmware, , ssid, , serial] = head;
  if (mac === undefined || model === undefined || firmware === undefined || serial === undefined)
    return undefined;
  return {
    mac,
    model,
    firmware,
    ssid: ssid ?? '',
    serial,
    rssi: Number(tail[0]),
    online: tail[1] === 'online',
  };
}

async function readDevices(file: string, max: number): Promise<DeviceRow[]> {
  const rows: DeviceRow[] = [];
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let header = true;
  for await (const line of lines) {
    if (header) {
      header = false;
      continue;
    }
    const row = parseDevice(line);
    if (row !== undefined) rows.push(row);
    if (rows.length >= max) break;
  }
  lines.close();
  return rows;
}

function notAuthorized(): AuthenticateError {
  // CONNACK return code 5 (MQTT 3.1.1 §3.2.2.3): "Connection Refused, not authorized".
  const error = new Error('not authorized') as AuthenticateError;
  // aedes declares the codes as a const enum, which isolated modules cannot import as values.
  Object.assign(error, { returnCode: 5 });
  return error;
}

/** Starts the broker (protected) and publishes the retained device messages. */
export async function startTelemetryBroker(options: TelemetryBrokerOptions): Promise<TelemetryBroker> {
  let isProtected = true;
  const broker = await Aedes.createBroker({
    authenticate: (_client, username, password, done) => {
      if (!isProtected) {
        done(null, true);
        return;
      }
      const ok = username === options.user && password?.toString('utf8') === options.password;
      if (ok) done(null, true);
      else done(notAuthorized(), false);
    },
  });
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    broker.handle(socket);
  });
  const stop = async (): Promise<void> => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
    await new Promise<void>((resolve) => {
      broker.close(() => {
        resolve();
      });
    });
  };
  try {
    const port = await listenOnLoopback(server, 'broker');

    const devices = await readDevices(options.devicesFile, options.maxDevices);
    const gateway = await connectAsync(`mqtt://127.0.0.1:${port}`, {
      username: options.user,
      password: options.password,
      clientId: 'device-gateway',
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    try {
      for (const d of devices) {
        const payload = JSON.stringify({
          device_id: d.serial,
          mac: d.mac,
          model: d.model,
          firmware: d.firmware,
          wifi: { ssid: d.ssid === '' ? null : d.ssid, rssi: d.rssi },
          online: d.online,
        });
        await gateway.publishAsync(`cams/${d.serial}/status`, payload, { qos: 1, retain: true });
      }
    } finally {
      await gateway.endAsync();
    }
    return {
      port,
      devices: devices.length,
      get protected() {
        return isProtected;
      },
      setProtected(value) {
        isProtected = value;
      },
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

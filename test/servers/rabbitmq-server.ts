import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './free-port.js';

export interface PrivateRabbitMq {
  /** AMQP port. */
  port: number;
  /** Management API port (AMQP port + 10000 when that was free, as the connector looks there first). */
  managementPort: number;
  /** A management API call as guest (seeding queues and messages from the test). */
  api(
    method: 'GET' | 'PUT' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }>;
  stop(): Promise<void>;
}

async function portIsFree(port: number): Promise<boolean> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => {
      resolve(false);
    });
    server.listen(port, '127.0.0.1', () => {
      server.close(() => {
        resolve(true);
      });
    });
  });
}

/** An AMQP port whose "+ 10000" management port is free too, so the connector's convention applies. */
async function amqpAndManagementPorts(): Promise<{ port: number; managementPort: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freePort();
    if (port + 10_000 <= 65_535 && (await portIsFree(port + 10_000)))
      return { port, managementPort: port + 10_000 };
  }
  throw new Error('no free AMQP port with a free port + 10000');
}

/**
 * Starts a private RabbitMQ (Debian's 3.10, with the management plugin) on free loopback ports:
 * its own node name, Erlang distribution port, epmd (on a free port, so the machine's shared epmd
 * on 4369 is not used), cookie (HOME is the temp dir) and data directory. Never the shared 5672.
 */
export async function startRabbitMq(): Promise<PrivateRabbitMq> {
  const { port, managementPort } = await amqpAndManagementPorts();
  const distPort = await freePort();
  const epmdPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'lw-rabbitmq-'));
  const node = `lw${randomBytes(4).toString('hex')}@localhost`;
  writeFileSync(
    join(dir, 'rabbitmq.conf'),
    [
      `listeners.tcp.default = 127.0.0.1:${port}`,
      `management.tcp.port = ${managementPort}`,
      'management.tcp.ip = 127.0.0.1',
      // Queue stats reach the management API on this interval (default 5 s): shorter keeps tests fast.
      'collect_statistics_interval = 500',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_management].\n');
  const env = {
    ...process.env,
    HOME: dir,
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_PLUGINS_EXPAND_DIR: join(dir, 'plugins-expand'),
  };
  // Our own epmd in the foreground, so it is our child and ends with the test (one started by
  // rabbitmq-server would daemonize and outlive it).
  const epmd: ChildProcess = spawn('epmd', ['-port', String(epmdPort), '-address', '127.0.0.1'], {
    stdio: 'ignore',
    env,
  });
  await waitForPort(epmdPort, '127.0.0.1', 10_000);
  // /usr/lib/rabbitmq/bin directly: the /usr/sbin wrapper switches to the rabbitmq user and the
  // shared instance's directories. Detached: its own process group, killed whole at the end.
  const child: ChildProcess = spawn('/usr/lib/rabbitmq/bin/rabbitmq-server', [], {
    stdio: 'ignore',
    env,
    cwd: dir,
    detached: true,
  });
  const stop = async (): Promise<void> => {
    if (child.pid !== undefined && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
      await exited;
    }
    if (epmd.exitCode === null) {
      const exited = new Promise((r) => epmd.once('exit', r));
      epmd.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, '127.0.0.1', 60_000);
    await waitForPort(managementPort, '127.0.0.1', 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  const auth = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
  return {
    port,
    managementPort,
    api: async (method, path, body) => {
      const res = await fetch(`http://127.0.0.1:${managementPort}${path}`, {
        method,
        headers: { authorization: auth, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const textBody = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(textBody) as unknown;
      } catch {
        json = textBody;
      }
      return { status: res.status, json };
    },
    stop,
  };
}

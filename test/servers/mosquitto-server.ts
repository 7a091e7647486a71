import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { freePort, waitForPort } from './free-port.js';

export interface MosquittoOptions {
  /** `allow_anonymous`: whether clients without a user name may connect. */
  anonymous: boolean;
  /** User name → password, written to a password file with `mosquitto_passwd`. */
  users?: Record<string, string>;
  /**
   * Load the dynamic-security plugin with subscriptions denied by default, so SUBSCRIBE # is answered
   * 0x80. (An `acl_file` cannot do this: mosquitto grants the subscription and filters delivery.)
   */
  denySubscriptions?: boolean;
}

export interface PrivateMosquitto {
  port: number;
  /** Publishes one message (as the first user, if any): the test's seeding, never the scanner's. */
  publish(topic: string, payload: string, options?: { retain?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

const broker = '/usr/sbin/mosquitto';
// Debian ships mosquitto_passwd in the `mosquitto` package itself; mosquitto_pub is in the separate
// `mosquitto-clients`, so seeding goes through the `mqtt` npm package instead.
const passwdTool = '/usr/bin/mosquitto_passwd';

// Debian installs the plugin under the multiarch library directory (x86_64-linux-gnu, aarch64-…).
function dynamicSecurityPlugin(): string {
  for (const entry of readdirSync('/usr/lib')) {
    const candidate = join('/usr/lib', entry, 'mosquitto_dynamic_security.so');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('mosquitto_dynamic_security.so not found (Debian package mosquitto)');
}

/**
 * Starts a private Debian mosquitto on a free loopback port with nothing persisted, so tests never
 * touch the machine's shared broker on 1883.
 */
export async function startMosquitto(options: MosquittoOptions): Promise<PrivateMosquitto> {
  for (const tool of [broker, passwdTool]) {
    if (!existsSync(tool)) throw new Error(`${tool} not found: install Debian's mosquitto`);
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'lw-mosquitto-'));
  const users = Object.entries(options.users ?? {});
  const lines = [
    `listener ${port} 127.0.0.1`,
    `allow_anonymous ${options.anonymous}`,
    'persistence false',
    'log_dest stderr',
  ];
  if (users.length > 0) {
    const passwordFile = join(dir, 'passwd');
    for (const [index, [user, password]] of users.entries()) {
      // -c creates the file for the first user only; later users are added to it.
      const args =
        index === 0 ? ['-b', '-c', passwordFile, user, password] : ['-b', passwordFile, user, password];
      const made = spawnSync(passwdTool, args, { stdio: 'pipe' });
      if (made.status !== 0) throw new Error(`mosquitto_passwd failed: ${made.stderr.toString()}`);
    }
    lines.push(`password_file ${passwordFile}`);
  }
  if (options.denySubscriptions === true) {
    // https://mosquitto.org/documentation/dynamic-security/ (defaultACLAccess).
    const dynsec = join(dir, 'dynamic-security.json');
    writeFileSync(
      dynsec,
      JSON.stringify({
        defaultACLAccess: {
          publishClientSend: false,
          publishClientReceive: true,
          subscribe: false,
          unsubscribe: true,
        },
        clients: [],
        groups: [],
        roles: [],
      }),
    );
    lines.push(`plugin ${dynamicSecurityPlugin()}`, `plugin_opt_config_file ${dynsec}`);
  }
  // As root, mosquitto drops privileges to the `mosquitto` user, which cannot read our temp dir.
  if (process.getuid?.() === 0) lines.push('user root');
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(config, `${lines.join('\n')}\n`);

  const child: ChildProcess = spawn(broker, ['-c', config], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await waitForPort(port);
  const auth = users[0] === undefined ? {} : { username: users[0][0], password: users[0][1] };
  return {
    port,
    publish: async (topic, payload, publishOptions) => {
      const client = await connectAsync({
        host: '127.0.0.1',
        port,
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 5_000,
        clientId: `lw-seed-${Math.random().toString(16).slice(2, 10)}`,
        ...auth,
      });
      try {
        // QoS 1: resolved only once the broker has stored it, so a scan right after sees it.
        await client.publishAsync(topic, payload, { qos: 1, retain: publishOptions?.retain === true });
      } finally {
        await client.endAsync();
      }
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

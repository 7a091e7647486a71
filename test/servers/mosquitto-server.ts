import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
  /**
   * Rewrites `allow_anonymous` and reloads (SIGHUP), as an operator would; `true` is the mistake.
   * Resolves once a new anonymous CONNECT gets the new answer. Clients already connected keep their
   * session: mosquitto re-checks credentials only at CONNECT.
   */
  setAnonymous(allowed: boolean): Promise<void>;
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

function addUser(passwordFile: string, user: string, password: string, create: boolean): void {
  const args = create ? ['-b', '-c', passwordFile, user, password] : ['-b', passwordFile, user, password];
  const made = spawnSync(passwdTool, args, { stdio: 'pipe' });
  if (made.status !== 0) throw new Error(`mosquitto_passwd failed: ${made.stderr.toString()}`);
}

/** Whether a fresh anonymous MQTT 3.1.1 CONNECT is accepted (false: refused by a CONNACK code). */
async function anonymousAccepted(port: number): Promise<boolean> {
  try {
    const client = await connectAsync({
      host: '127.0.0.1',
      port,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 1_000,
      clientId: `lw-check-${Math.random().toString(16).slice(2, 10)}`,
    });
    await client.endAsync();
    return true;
  } catch (error) {
    // A CONNACK refusal carries its numeric return code; anything else (broker gone) is not an answer.
    if (typeof (error as { code?: unknown }).code === 'number') return false;
    throw error;
  }
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
  const passwordFile = join(dir, 'passwd');
  if (users.length > 0) {
    for (const [index, [user, password]] of users.entries()) {
      // -c creates the file for the first user only; later users are added to it.
      addUser(passwordFile, user, password, index === 0);
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
  // Mutable: setAnonymous(false) on a broker started without users adds an operator account.
  let auth = users[0] === undefined ? {} : { username: users[0][0], password: users[0][1] };
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
    setAnonymous: async (allowed) => {
      const text = readFileSync(config, 'utf8');
      let next = text.replace(/^allow_anonymous .*$/m, `allow_anonymous ${allowed}`);
      // Without a password file a broker that refuses anonymous clients refuses everyone; a real
      // operator locking it down would have accounts, so give it one (the seeding account).
      if (!allowed && !/^password_file /m.test(next)) {
        const operator = { username: 'operator', password: randomBytes(12).toString('hex') };
        addUser(passwordFile, operator.username, operator.password, true);
        next += `password_file ${passwordFile}\n`;
        auth = operator;
      }
      writeFileSync(config, next);
      child.kill('SIGHUP');
      // The reload happens on the broker's next main-loop pass, not when kill() returns.
      const deadline = Date.now() + 3_000;
      while ((await anonymousAccepted(port)) !== allowed) {
        if (Date.now() > deadline) {
          throw new Error(`mosquitto still answers anonymous=${!allowed} 3 s after the reload`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

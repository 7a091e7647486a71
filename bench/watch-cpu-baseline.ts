/**
 * The floor of watching N loopback Redis stores, for bench/watch-cpu.ts: the least work that still
 * answers "protected?" for every store every interval. Per store a timer jittered like leakwatch's
 * schedule (±20%); per probe one TCP connection, `PING`, the `-NOAUTH` error read, close. Nothing is
 * recorded. Spawned by the benchmark:
 *
 *   node --import tsx bench/watch-cpu-baseline.ts --ports 7001,7002 --stores 1000 --interval 5000
 *
 * Writes `warm` on stderr once every store was probed once, and on SIGTERM one JSON line on stdout
 * with what it counted. Connects to 127.0.0.1 only.
 */
import { connect } from 'node:net';

function argument(name: string): string {
  const at = process.argv.indexOf(name);
  const value = at > 0 ? process.argv[at + 1] : undefined;
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
}

const ports = argument('--ports').split(',').map(Number);
const stores = Number(argument('--stores'));
const intervalMs = Number(argument('--interval'));
const jitter = 0.2;
const timeoutMs = 5000;

const counts = { probes: 0, protected: 0, other: 0 };
const probedOnce = new Set<number>();
const timers = new Set<NodeJS.Timeout>();
let stopping = false;

/** One probe: true when the server demands authentication. */
function probe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (authRequired: boolean): void => {
      socket.destroy();
      resolve(authRequired);
    };
    socket.setTimeout(timeoutMs, () => {
      finish(false);
    });
    socket.once('error', () => {
      finish(false);
    });
    socket.once('connect', () => {
      socket.write('PING\r\n');
    });
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) finish(reply.startsWith('-NOAUTH'));
    });
  });
}

function arm(index: number, delayMs: number): void {
  if (stopping) return;
  const port = ports[index % ports.length] ?? 0;
  const timer = setTimeout(() => {
    timers.delete(timer);
    const started = Date.now();
    void probe(port).then((authRequired) => {
      counts.probes++;
      if (authRequired) counts.protected++;
      else counts.other++;
      if (probedOnce.size < stores) {
        probedOnce.add(index);
        if (probedOnce.size === stores) process.stderr.write('warm\n');
      }
      const period = intervalMs * (1 - jitter + 2 * jitter * Math.random());
      arm(index, Math.max(0, Math.round(period - (Date.now() - started))));
    });
  }, delayMs);
  timers.add(timer);
}

// Like leakwatch's schedule, the first round spreads over up to a second.
for (let i = 0; i < stores; i++) arm(i, Math.round(Math.random() * Math.min(intervalMs, 1000)));

process.once('SIGTERM', () => {
  stopping = true;
  for (const timer of timers) clearTimeout(timer);
  process.stdout.write(`${JSON.stringify(counts)}\n`);
});

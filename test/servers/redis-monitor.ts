import { connect } from 'node:net';
import type { PrivateRedis } from './redis-server.js';

// MONITOR lines look like `+1700000000.123456 [0 127.0.0.1:50000] "SCAN" "0"`
// (https://redis.io/docs/latest/commands/monitor/); the first quoted word is the command.
const monitorLine = /^\+\d+\.\d+ \[\d+ [^\]]+\] "([^"]+)"/;
const monitorCapBytes = 8 * 1024 * 1024;
const sentinel = 'leakwatch-monitor-end';

/**
 * Every command a private Redis executed while `during` ran (lower-cased), seen through a raw
 * MONITOR connection. A final `ECHO` from redis-cli marks the end, so nothing before it is missed.
 */
export async function commandsSeenDuring(
  redis: PrivateRedis,
  during: () => Promise<unknown>,
  password?: string,
): Promise<string[]> {
  const socket = connect({ host: '127.0.0.1', port: redis.port });
  let text = '';
  let notify: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
    if (text.length > monitorCapBytes) socket.destroy(new Error('MONITOR output over 8 MiB'));
    notify?.();
  });
  const waitFor = (done: () => boolean): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`MONITOR: timed out; got ${text.slice(0, 500)}`));
      }, 10_000);
      socket.once('error', reject);
      notify = () => {
        if (!done()) return;
        clearTimeout(timer);
        resolve();
      };
      notify();
    });
  try {
    const okReplies = password === undefined ? 1 : 2;
    socket.write(`${password === undefined ? '' : `AUTH ${password}\r\n`}MONITOR\r\n`);
    await waitFor(() => text.split('+OK\r\n').length > okReplies);
    await during();
    await redis.cli('ECHO', sentinel);
    await waitFor(() => text.includes(sentinel));
  } finally {
    socket.destroy();
  }
  const commands: string[] = [];
  for (const line of text.split('\r\n')) {
    if (line.includes(sentinel)) break;
    const command = monitorLine.exec(line)?.[1];
    if (command !== undefined) commands.push(command.toLowerCase());
  }
  return commands;
}

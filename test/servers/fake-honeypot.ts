import { createServer, type Server, type Socket } from 'node:net';
import { freePort } from './free-port.js';

/**
 * A multi-protocol stand-in for a low-interaction honeypot (no product: a few lines that speak two
 * protocols from one listener, as honeypots that emulate many services do). A client that speaks
 * first and says `GET`/`HEAD` gets an HTTP/1.1 page; a client that waits gets a MySQL HandshakeV10
 * greeting and then "access denied". Anything else is hung up on.
 */
export interface FakeHoneypot {
  port: number;
  stop(): Promise<void>;
}

// Long enough for an HTTP client's request to arrive first on loopback, short enough that the MySQL
// answer comes well within a scan's grace after the first identified answer.
const waitForClientMs = 50;

function mysqlPacket(sequence: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUIntLE(payload.length, 0, 3);
  head[3] = sequence;
  return Buffer.concat([head, payload]);
}

// HandshakeV10, from the MySQL protocol documentation:
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_v10.html
function mysqlGreeting(): Buffer {
  // CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION, then CLIENT_PLUGIN_AUTH.
  const lower = 0x0001 | 0x0200 | 0x8000;
  const upper = 0x0008;
  const fixed = Buffer.alloc(4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10);
  let at = 0;
  fixed.writeUInt32LE(7, at); // connection id
  at += 4;
  fixed.fill(0x41, at, at + 8); // auth-plugin-data-part-1
  at += 8 + 1; // filler
  fixed.writeUInt16LE(lower, at);
  at += 2;
  fixed[at] = 0x21; // utf8_general_ci
  at += 1;
  fixed.writeUInt16LE(0x0002, at); // SERVER_STATUS_AUTOCOMMIT
  at += 2;
  fixed.writeUInt16LE(upper, at);
  at += 2;
  fixed[at] = 21; // auth-plugin-data length; 10 reserved zero bytes follow
  return mysqlPacket(
    0,
    Buffer.concat([
      Buffer.from([0x0a]),
      Buffer.from('5.7.44\0', 'latin1'),
      fixed,
      Buffer.from('BBBBBBBBBBBB\0', 'latin1'), // auth-plugin-data-part-2
      Buffer.from('mysql_native_password\0', 'latin1'),
    ]),
  );
}

// ERR_Packet: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_err_packet.html
function mysqlAccessDenied(sequence: number): Buffer {
  const code = Buffer.alloc(2);
  code.writeUInt16LE(1045);
  return mysqlPacket(
    sequence,
    Buffer.concat([Buffer.from([0xff]), code, Buffer.from("#28000Access denied for user 'root'", 'latin1')]),
  );
}

function httpPage(): Buffer {
  const body = '<html><body>It works</body></html>';
  return Buffer.from(
    `HTTP/1.1 200 OK\r\nServer: Apache/2.4.57\r\nContent-Type: text/html\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    'latin1',
  );
}

function serve(socket: Socket): void {
  socket.on('error', () => undefined);
  let greeted = false;
  const timer = setTimeout(() => {
    greeted = true;
    socket.write(mysqlGreeting());
  }, waitForClientMs);
  socket.once('data', (chunk: Buffer) => {
    clearTimeout(timer);
    if (greeted) {
      // The login answer to our greeting: deny it, as a honeypot does to log the attempt.
      socket.end(mysqlAccessDenied((chunk[3] ?? 0) + 1));
    } else if (/^(?:GET|HEAD) /.test(chunk.toString('latin1', 0, 5))) {
      socket.end(httpPage());
    } else {
      socket.destroy();
    }
  });
  socket.on('close', () => {
    clearTimeout(timer);
  });
}

export async function startFakeHoneypot(): Promise<FakeHoneypot> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serve(socket);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        for (const socket of sockets) socket.destroy();
      }),
  };
}

import { connect, type Socket } from 'node:net';
import { LimitError } from '../core/errors.js';

export interface TcpSessionOptions {
  host: string;
  port: number;
  signal: AbortSignal;
  /** Cap on bytes buffered while waiting for one answer. */
  maxBytes: number;
}

/**
 * Returns how many bytes at the start of `buffer` form one complete answer, or `undefined` to wait
 * for more. Throw `ProtocolError` when the bytes cannot be this protocol.
 */
export type FrameReader = (buffer: Buffer) => number | undefined;

/**
 * A raw TCP conversation with a byte cap and the target's deadline on every wait. Used by the
 * protocols simple enough to speak directly (DESIGN.md: Redis, and pre-checks before a driver is
 * trusted with a peer), so nothing reconnects, retries or buffers without bound.
 */
export class TcpSession {
  private buffer: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;
  private ended = false;

  private constructor(
    private readonly socket: Socket,
    private readonly options: TcpSessionOptions,
  ) {
    socket.on('data', (chunk: Buffer) => {
      if (this.buffer.length + chunk.length > options.maxBytes) {
        this.fail(new LimitError(`answer larger than ${options.maxBytes} bytes`));
        return;
      }
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on('error', (error) => {
      this.fail(error);
    });
    // One listener for the session's life, not one per wait; removed on close because many
    // sessions share one endpoint signal.
    const onAbort = (): void => {
      this.fail(options.signal.reason instanceof Error ? options.signal.reason : new Error('aborted'));
    };
    options.signal.addEventListener('abort', onAbort, { once: true });
    socket.on('close', () => {
      options.signal.removeEventListener('abort', onAbort);
      this.ended = true;
      this.wake();
    });
  }

  /** Connects, or throws the socket error (ECONNREFUSED, abort). */
  static async open(options: TcpSessionOptions): Promise<TcpSession> {
    options.signal.throwIfAborted();
    const socket = connect({ host: options.host, port: options.port, signal: options.signal, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.removeAllListeners('error');
    return new TcpSession(socket, options);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.socket.destroy();
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  /** Sends `data` (if any), then waits for one frame and returns it. */
  async request(data: Buffer | string | undefined, readFrame: FrameReader): Promise<Buffer> {
    if (data !== undefined) this.socket.write(data);
    for (;;) {
      if (this.failure) throw this.failure;
      this.options.signal.throwIfAborted();
      const length = this.buffer.length > 0 ? readFrame(this.buffer) : undefined;
      if (length !== undefined) {
        const frame = this.buffer.subarray(0, length);
        this.buffer = this.buffer.subarray(length);
        return frame;
      }
      if (this.ended) {
        const error = new Error('connection closed by peer') as NodeJS.ErrnoException;
        error.code = 'ECONNRESET';
        throw error;
      }
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

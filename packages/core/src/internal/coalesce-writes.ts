import { Socket } from 'node:net';

type WriteCallback = (error?: Error | null) => void;

interface WritevChunk {
  chunk: unknown;
  encoding: BufferEncoding;
}

/** The Writable implementer methods of `net.Socket` (Node's documented stream API) that are wrapped. */
interface WritableMethods {
  _write(chunk: unknown, encoding: BufferEncoding, callback: WriteCallback): void;
  _writev(chunks: WritevChunk[], callback: WriteCallback): void;
  _final(callback: WriteCallback): void;
  _destroy(error: Error | null, callback: WriteCallback): void;
}

/** What a coalesced socket holds; `false` marks a socket that is left alone. */
interface Held {
  /** The write held until the flush: one chunk, or a `_writev` list when `encoding` is undefined. */
  chunk: unknown;
  encoding: BufferEncoding | undefined;
  /** A released write that the kernel did not take at once: writes go straight through until it is sent. */
  sending: boolean;
  /** The released write's callback, made once per connection. */
  readonly sent: WriteCallback;
}

type CoalescedSocket = Socket & WritableMethods & { [kHeld]?: Held | false };

const kHeld = Symbol('org.coalesceWrites');
const base = Socket.prototype as CoalescedSocket;
const { _write: write, _writev: writev, _final: final, _destroy: destroy } = base;

/**
 * Connections whose writes a flush waits for. A burst this long is what spares the
 * wake-ups; holding more keeps more responses alive through a young-generation
 * collection, which made V8 grow its new space (peak RSS +25 MiB with no limit).
 */
const BURST = 16;
let waiting: CoalescedSocket[] = [];
let scheduled = false;
let exitHooked = false;

function release(socket: CoalescedSocket, held: Held): void {
  const { chunk, encoding } = held;
  if (chunk === undefined) return;
  held.chunk = undefined;
  held.sending = true;
  // A write the kernel takes whole calls `sent` before returning (libuv's try-write).
  if (encoding === undefined) writev.call(socket, chunk as WritevChunk[], held.sent);
  else write.call(socket, chunk, encoding, held.sent);
}

function flush(): void {
  const sockets = waiting;
  waiting = [];
  for (const socket of sockets) {
    try {
      release(socket, socket[kHeld] as Held);
    } catch (error) {
      // One connection's failure must not strand the others' responses.
      socket.destroy(error as Error);
    }
  }
}

function flushTurn(): void {
  scheduled = false;
  flush();
}

/** Holds a write and tells the stream it is done; false when it must go straight through. */
function hold(
  socket: CoalescedSocket,
  chunk: unknown,
  encoding: BufferEncoding | undefined,
): boolean {
  const held = socket[kHeld] as Held;
  release(socket, held);
  // The kernel's buffer for this connection is full: the writer must feel it (backpressure).
  if (held.sending) return false;
  held.chunk = chunk;
  held.encoding = encoding;
  if (waiting.push(socket) >= BURST) flush();
  else if (!scheduled) {
    scheduled = true;
    setImmediate(flushTurn);
  }
  return true;
}

function heldWrite(
  this: CoalescedSocket,
  chunk: unknown,
  encoding: BufferEncoding,
  callback: WriteCallback,
): void {
  if (hold(this, chunk, encoding)) callback();
  else write.call(this, chunk, encoding, callback);
}

function heldWritev(this: CoalescedSocket, chunks: WritevChunk[], callback: WriteCallback): void {
  if (hold(this, chunks, undefined)) callback();
  else writev.call(this, chunks, callback);
}

function heldFinal(this: CoalescedSocket, callback: WriteCallback): void {
  release(this, this[kHeld] as Held);
  final.call(this, callback);
}

function heldDestroy(this: CoalescedSocket, error: Error | null, callback: WriteCallback): void {
  // The stream was told the held write is done: it goes out before the close.
  release(this, this[kHeld] as Held);
  destroy.call(this, error, callback);
}

/**
 * Makes a connection's writes wait for the end of the event-loop turn, or for a burst of
 * {@link BURST} connections, and go out together. Each write to a loopback or same-host
 * peer (a proxy, a balancer, a load generator) wakes the reading process; writes spread
 * over a turn wake it once each, while a burst finds it still awake. Under load on this
 * project's benchmark machine that wake-up was a fifth to a third of the server's CPU per
 * request.
 *
 * The stream is told a held write is done at once, so `finish` and `close` keep their
 * timing and nothing of a request outlives its turn but the bytes. Backpressure is kept:
 * once the kernel does not take a released write whole, the connection's writes go
 * straight through until it has. `end()`, `destroy()` and `process.exit()` release held
 * writes first. A socket whose stream methods are not Node's own (TLS sockets share
 * them; an HTTP/2 proxy or a test double does not) is left alone. Idempotent: adapters
 * call it on every request.
 */
export function coalesceWrites(socket: Socket): void {
  const target = socket as CoalescedSocket;
  if (target[kHeld] !== undefined) return;
  const own =
    target._write === write &&
    target._writev === writev &&
    target._final === final &&
    target._destroy === destroy;
  if (!own) {
    target[kHeld] = false;
    return;
  }
  if (!exitHooked) {
    // process.exit() in the turn of a response: the held bytes still go out (a write
    // the kernel takes at once is done before the process ends).
    exitHooked = true;
    process.on('exit', flush);
  }
  const held: Held = {
    chunk: undefined,
    encoding: undefined,
    sending: false,
    sent: (error) => {
      held.sending = false;
      if (error) target.destroy(error);
    },
  };
  target[kHeld] = held;
  target._write = heldWrite;
  target._writev = heldWritev;
  target._final = heldFinal;
  target._destroy = heldDestroy;
}

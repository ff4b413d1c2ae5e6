import { closeSync, openSync, writeSync } from 'node:fs';
import { ConfigurationError } from '@org/core';
import { functionOption, positiveInteger } from '@org/core/adapter';

/** Options of {@link fileDestination}. Give `path` or `fd`, not both. */
export interface FileDestinationOptions {
  /** A file to append to (created when missing, mode 0o640). */
  path?: string;
  /** An open file descriptor, for example `1` for standard output. Never closed by `end()`. */
  fd?: number;
  /**
   * Bytes held between two writes. Lines are copied in as they come and the whole
   * buffer goes out with one `write(2)` per event-loop turn, or at once when full.
   * @default 65536
   */
  bufferSize?: number;
  /**
   * Told when a write fails (disk full, closed descriptor); the lines of that write are
   * lost and counted in `lostBytes`. Never called for `EAGAIN`: a full pipe is retried.
   * @default one process warning per error code
   */
  onError?: (error: Error) => void;
}

/** A pino destination returned by {@link fileDestination}. */
export interface FileDestination {
  /** Copies one line into the buffer; false when it had to be dropped (the buffer is full and the descriptor is not accepting). */
  write(line: string): boolean;
  /** Writes what the buffer holds now, synchronously. */
  flushSync(): void;
  /** pino's `logger.flush(callback)`: writes what the buffer holds, then calls back. */
  flush(callback?: (error?: Error) => void): void;
  /** Flushes and closes the file when this destination opened it. Later lines are dropped. */
  end(): void;
  /** Bytes dropped so far: failed writes, and lines that met a full buffer on a stalled pipe. */
  readonly lostBytes: number;
}

const MIN_BUFFER = 4096;
/** Retry delay while a non-blocking pipe reports EAGAIN. */
const RETRY_MS = 10;

/** Open destinations, flushed on process exit by one listener. */
const open = new Set<FileSink>();
let exitHooked = false;

function warnOnce(): (error: Error) => void {
  const seen = new Set<string>();
  return (error) => {
    const code = (error as NodeJS.ErrnoException).code ?? error.name;
    if (seen.has(code)) return;
    seen.add(code);
    process.emitWarning(`fileDestination: a log write failed (${code}); its lines were dropped.`);
  };
}

class FileSink implements FileDestination {
  readonly #fd: number;
  readonly #owned: boolean;
  readonly #buffer: Buffer;
  readonly #onError: (error: Error) => void;
  #length = 0;
  #scheduled = false;
  #ended = false;
  #lost = 0;
  readonly #flushLater = (): void => {
    this.#scheduled = false;
    this.flushSync();
  };

  constructor(fd: number, owned: boolean, bufferSize: number, onError: (error: Error) => void) {
    this.#fd = fd;
    this.#owned = owned;
    this.#buffer = Buffer.allocUnsafeSlow(bufferSize);
    this.#onError = onError;
  }

  get lostBytes(): number {
    return this.#lost;
  }

  write(line: string): boolean {
    if (this.#ended) {
      this.#lost += Buffer.byteLength(line);
      return false;
    }
    const buffer = this.#buffer;
    // A UTF-16 code unit is at most 3 UTF-8 bytes: the cheap bound spares a
    // byteLength pass (and pino's lines are built by concatenation: a pass would
    // flatten them twice) on every line but the few that near the end of the buffer.
    if (this.#length + line.length * 3 > buffer.length) {
      const bytes = Buffer.byteLength(line);
      if (this.#length + bytes > buffer.length) this.flushSync();
      if (this.#length + bytes > buffer.length) {
        if (this.#length === 0 && bytes > buffer.length) return this.#writeLarge(line, bytes);
        this.#lost += bytes;
        return false;
      }
    }
    this.#length += buffer.write(line, this.#length);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flushLater);
    }
    return true;
  }

  flushSync(): void {
    let offset = 0;
    try {
      while (offset < this.#length) {
        offset += writeSync(this.#fd, this.#buffer, offset, this.#length - offset);
      }
      this.#length = 0;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
        // A non-blocking pipe is full: keep the rest and try again shortly.
        this.#buffer.copyWithin(0, offset, this.#length);
        this.#length -= offset;
        if (!this.#scheduled) {
          this.#scheduled = true;
          setTimeout(this.#flushLater, RETRY_MS).unref();
        }
        return;
      }
      this.#lost += this.#length - offset;
      this.#length = 0;
      this.#onError(error as Error);
    }
  }

  flush(callback?: (error?: Error) => void): void {
    this.flushSync();
    callback?.();
  }

  /** A line bigger than the whole buffer: written on its own, the buffer being empty. */
  #writeLarge(line: string, bytes: number): boolean {
    try {
      const data = Buffer.from(line);
      let offset = 0;
      while (offset < bytes) offset += writeSync(this.#fd, data, offset, bytes - offset);
      return true;
    } catch (error) {
      this.#lost += bytes;
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') this.#onError(error as Error);
      return false;
    }
  }

  end(): void {
    if (this.#ended) return;
    this.flushSync();
    this.#ended = true;
    open.delete(this);
    if (this.#owned) closeSync(this.#fd);
  }
}

/**
 * A pino destination for a file or a descriptor that writes each event-loop turn's
 * lines with one `write(2)`. Lines are copied into one fixed buffer as they come, so
 * none of them outlives its request on the heap and memory stays at `bufferSize`
 * whatever the load; pino's own destinations make one system call per line
 * (`sync: true`, its default) or keep lines as strings until an asynchronous write
 * completes. The write is synchronous: for a regular file it is a copy into the page
 * cache. What the buffer holds is written when the process exits normally; a crash
 * loses at most the current turn's lines.
 *
 * @example
 * ```ts
 * const logger = createLogger({ destination: fileDestination({ path: '/var/log/api/access.log' }) });
 * ```
 */
export function fileDestination(options: FileDestinationOptions): FileDestination {
  const { path, fd } = options;
  if ((path === undefined) === (fd === undefined)) {
    throw new ConfigurationError(
      'fileDestination: give exactly one of path (a file) or fd (an open descriptor).',
    );
  }
  if (path !== undefined && (typeof path !== 'string' || path === '')) {
    throw new ConfigurationError('fileDestination: path must be a non-empty file path.');
  }
  if (fd !== undefined && (!Number.isInteger(fd) || fd < 0)) {
    throw new ConfigurationError(
      `fileDestination: fd must be an open file descriptor; received ${String(fd)}.`,
    );
  }
  const bufferSize = positiveInteger('fileDestination', 'bufferSize', options.bufferSize, 65_536);
  if (bufferSize < MIN_BUFFER) {
    throw new ConfigurationError(
      `fileDestination: bufferSize must be at least ${MIN_BUFFER} bytes; received ${bufferSize}.`,
    );
  }
  const onError =
    functionOption('fileDestination', 'onError', options.onError, undefined) ?? warnOnce();
  const sink =
    path === undefined
      ? new FileSink(fd as number, false, bufferSize, onError)
      : new FileSink(openSync(path, 'a', 0o640), true, bufferSize, onError);
  open.add(sink);
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', () => {
      for (const each of open) each.flushSync();
    });
  }
  return sink;
}

import { spawnSync } from 'node:child_process';
import {
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigurationError } from '@org/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from './create-logger.js';
import { fileDestination } from './file-destination.js';

const hooks = fileURLToPath(new URL('../../../../test-support/source-hooks.mjs', import.meta.url));
const fixture = fileURLToPath(new URL('../../test/fixtures/log-then-exit.ts', import.meta.url));

/** One event-loop turn: the destination writes its buffer in a setImmediate. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'file-destination-'));
  file = join(dir, 'app.log');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const contents = () => readFileSync(file, 'utf8');

describe('fileDestination', () => {
  it("holds a turn's lines and writes them together, in order, once the turn ends", async () => {
    const destination = fileDestination({ path: file });
    for (let i = 0; i < 100; i++) expect(destination.write(`{"n":${i}}\n`)).toBe(true);
    expect(contents()).toBe('');
    await nextTurn();
    expect(contents().split('\n').slice(0, -1)).toEqual(
      Array.from({ length: 100 }, (_, i) => `{"n":${i}}`),
    );
    destination.end();
  });

  it('writes at once when the buffer fills, keeping every line whole', async () => {
    const destination = fileDestination({ path: file, bufferSize: 4096 });
    const line = `${'x'.repeat(99)}\n`;
    for (let i = 0; i < 50; i++) destination.write(line);
    const written = contents();
    expect(written.length).toBeGreaterThan(0);
    expect(written.length % line.length).toBe(0);
    await nextTurn();
    expect(contents()).toBe(line.repeat(50));
    destination.end();
  });

  it('writes multi-byte text as UTF-8 and a line bigger than the buffer whole', async () => {
    const destination = fileDestination({ path: file, bufferSize: 4096 });
    destination.write('{"name":"Ada ✓ 😀"}\n');
    const large = `${'é'.repeat(5000)}\n`;
    destination.write(large);
    destination.write('last\n');
    await nextTurn();
    expect(contents()).toBe(`{"name":"Ada ✓ 😀"}\n${large}last\n`);
    destination.end();
  });

  it('creates the file with mode 0640 and appends to what is there', async () => {
    const first = fileDestination({ path: file });
    first.write('one\n');
    first.end();
    expect(statSync(file).mode & 0o777).toBe(0o640);
    const second = fileDestination({ path: file });
    second.write('two\n');
    second.end();
    expect(contents()).toBe('one\ntwo\n');
  });

  it('end() writes what is buffered, closes its own file and drops later lines', () => {
    const destination = fileDestination({ path: file });
    destination.write('kept\n');
    destination.end();
    expect(contents()).toBe('kept\n');
    expect(destination.write('late\n')).toBe(false);
    expect(destination.lostBytes).toBe(5);
    destination.end();
  });

  it('never closes a descriptor it was given', () => {
    const fd = openSync(file, 'a');
    const destination = fileDestination({ fd });
    destination.write('a\n');
    destination.end();
    expect(() => closeSync(fd)).not.toThrow();
    expect(contents()).toBe('a\n');
  });

  it('reports a failed write to onError and counts its bytes, never throwing', async () => {
    const fd = openSync(file, 'a');
    const errors: Error[] = [];
    const destination = fileDestination({ fd, onError: (error) => errors.push(error) });
    closeSync(fd);
    destination.write('lost line\n');
    await nextTurn();
    expect(errors.map((e) => (e as NodeJS.ErrnoException).code)).toEqual(['EBADF']);
    expect(destination.lostBytes).toBe(10);
  });

  it('warns once per error code by default', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const fd = openSync(file, 'a');
      const destination = fileDestination({ fd });
      closeSync(fd);
      destination.write('a\n');
      await nextTurn();
      destination.write('b\n');
      await nextTurn();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]?.[0])).toMatch(/EBADF/);
    } finally {
      warn.mockRestore();
    }
  });

  describe('on a pipe that stops being read (EAGAIN)', () => {
    let readFd: number;
    let writeFd: number;
    beforeEach(() => {
      const fifo = join(dir, 'fifo');
      expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      // The reader opens first: opening a FIFO non-blocking for writing needs one.
      readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      writeFd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    });
    afterEach(() => {
      closeSync(writeFd);
      closeSync(readFd);
    });

    it('keeps what it could not write, drops what no longer fits, and delivers the rest once the reader is back', async () => {
      const errors: Error[] = [];
      const destination = fileDestination({
        fd: writeFd,
        bufferSize: 4096,
        onError: (e) => errors.push(e),
      });
      const line = `${'y'.repeat(1023)}\n`;
      let accepted = 0;
      while (destination.lostBytes === 0) if (destination.write(line)) accepted++;
      expect(errors).toEqual([]);
      let received = 0;
      const chunk = Buffer.alloc(65_536);
      const readAvailable = () => {
        try {
          for (let n = readSync(readFd, chunk); n > 0; n = readSync(readFd, chunk)) received += n;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
        }
      };
      await vi.waitFor(
        () => {
          readAvailable();
          expect(received).toBe(accepted * line.length);
        },
        { timeout: 5000 },
      );
      expect(destination.lostBytes).toBe(line.length);
      destination.end();
      expect(errors).toEqual([]);
    });
  });

  it('rejects bad options at construction, naming the option', () => {
    expect(() => fileDestination({})).toThrow(ConfigurationError);
    expect(() => fileDestination({ path: file, fd: 1 })).toThrow(/exactly one of path .* or fd/);
    expect(() => fileDestination({ path: '' })).toThrow(/path/);
    expect(() => fileDestination({ fd: -1 })).toThrow(/fd/);
    expect(() => fileDestination({ path: file, bufferSize: 100 })).toThrow(/bufferSize.*4096/);
    expect(() => fileDestination({ path: file, onError: 'log' as never })).toThrow(/onError/);
  });

  it('is what createLogger writes through: a line per call, flushed by logger.flush()', () => {
    const destination = fileDestination({ path: file });
    const logger = createLogger({ destination, base: {} });
    logger.info({ token: 'secret-value' }, 'hello');
    logger.flush();
    const line = JSON.parse(contents()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 30, msg: 'hello', token: '[REDACTED]' });
    destination.end();
  });

  it("writes the default logger's lines to standard output when the process exits in the same turn", () => {
    const child = spawnSync(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', '--import', hooks, fixture],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(child.status).toBe(0);
    const lines = child.stdout
      .trim()
      .split('\n')
      .map((text) => JSON.parse(text) as Record<string, unknown>);
    expect(lines.map((l) => l.msg)).toEqual(['one', 'two', 'three']);
  });
});

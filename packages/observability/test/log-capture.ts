import { Writable } from 'node:stream';

/** A parsed pino line. */
export type LogLine = Record<string, unknown> & { level: number; msg?: string };

/** A pino destination that keeps every line, for assertions. */
export interface LogCapture {
  readonly stream: Writable;
  /** Every line so far, parsed. */
  readonly lines: LogLine[];
  /** Everything written, verbatim. */
  text(): string;
  /** Resolves with the first line (already written or still to come) that matches. */
  waitFor(predicate: (line: LogLine) => boolean): Promise<LogLine>;
}

export function captureLogs(): LogCapture {
  const lines: LogLine[] = [];
  const chunks: string[] = [];
  const waiters: { predicate: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, callback) {
      const text = chunk.toString();
      chunks.push(text);
      for (const raw of text.split('\n')) {
        if (raw === '') continue;
        const line = JSON.parse(raw) as LogLine;
        lines.push(line);
        for (let i = waiters.length - 1; i >= 0; i--) {
          const waiter = waiters[i];
          if (waiter?.predicate(line)) {
            waiters.splice(i, 1);
            waiter.resolve(line);
          }
        }
      }
      callback();
    },
  });
  return {
    stream,
    lines,
    text: () => chunks.join(''),
    waitFor(predicate) {
      const found = lines.find(predicate);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
  };
}

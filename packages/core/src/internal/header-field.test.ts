import { validateHeaderName, validateHeaderValue } from 'node:http';
import { describe, expect, it } from 'vitest';
import { checkHeaderName, checkHeaderValue } from './header-field.js';

/** The code `check` throws with, or undefined. */
function codeOf(check: () => void): string | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError);
    return (error as { code?: string }).code;
  }
}

describe('header checks', () => {
  it("accept and reject what Node's validators do, with their codes and messages", () => {
    for (let code = 0; code < 0x200; code++) {
      const text = `a${String.fromCharCode(code)}`;
      expect(codeOf(() => checkHeaderName(text))).toBe(codeOf(() => validateHeaderName(text)));
      expect(codeOf(() => checkHeaderValue('x', text))).toBe(
        codeOf(() => validateHeaderValue('x', text)),
      );
    }
    expect(() => checkHeaderName('bad name')).toThrow(
      'Header name must be a valid HTTP token ["bad name"]',
    );
    expect(() => checkHeaderValue('x-bad', 'a\r\nInjected: yes')).toThrow(
      'Invalid character in header content ["x-bad"]',
    );
    expect(codeOf(() => checkHeaderName(''))).toBe('ERR_INVALID_HTTP_TOKEN');
    expect(codeOf(() => checkHeaderValue('x', undefined as unknown as string))).toBe(
      'ERR_HTTP_INVALID_HEADER_VALUE',
    );
  });
});

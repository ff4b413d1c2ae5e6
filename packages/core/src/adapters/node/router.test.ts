import { describe, expect, it } from 'vitest';
import { Router } from './router.js';

describe('Router', () => {
  const router = new Router<string>();
  router.add('GET', '/users', 'list');
  router.add('POST', '/users', 'create');
  router.add('GET', '/users/:id', 'show');
  router.add('DELETE', '/users/:id', 'delete');

  it('matches static and parameterised routes with the template', () => {
    expect(router.match('GET', '/users')).toEqual({
      template: '/users',
      params: {},
      handler: 'list',
    });
    expect(router.match('GET', '/users/a%20b')).toEqual({
      template: '/users/:id',
      params: { id: 'a b' },
      handler: 'show',
    });
    expect(router.match('HEAD', '/users/1')).toMatchObject({ handler: 'show' });
  });

  it('matches exactly: no case, slash or empty-segment folding', () => {
    for (const path of ['/USERS', '/users/', '//users', '/users//', '/users/1/x']) {
      expect(router.match('GET', path)).toBeUndefined();
    }
  });

  it('reports allowed methods for a known path', () => {
    expect(router.match('PUT', '/users/1')).toEqual({ allow: ['GET', 'DELETE', 'HEAD'] });
  });

  it('fails at start-up on bad templates and duplicates', () => {
    expect(() => router.add('GET', 'users', 'x')).toThrow(/must start with/);
    expect(() => router.add('GET', '/x/:1bad', 'x')).toThrow(/invalid parameter/);
    expect(() => router.add('get', '/users', 'again')).toThrow(/registered twice/);
  });

  it('answers 400 for malformed percent-encoding in a parameter', () => {
    expect(() => router.match('GET', '/users/%E0%A4%A')).toThrow(/percent-encoding/);
  });
});

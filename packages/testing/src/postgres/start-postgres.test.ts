import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import { PostgresNotInstalledError } from './postgres-errors.js';
import { startPostgres } from './start-postgres.js';

async function connect(url: string): Promise<Client> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => {}); // a connection cut by kill() reports here
  await client.connect();
  return client;
}

describe('startPostgres', () => {
  it('serves on 127.0.0.1 only, as an unprivileged user, and stop() removes its directory', async () => {
    const server = await startPostgres();
    try {
      expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`);
      const client = await connect(server.url);
      const { rows } = await client.query(
        `SELECT current_user AS "user", current_setting('listen_addresses') AS listen,
                current_setting('fsync') AS fsync, current_setting('unix_socket_directories') AS socket`,
      );
      expect(rows[0]).toEqual({
        user: 'postgres',
        listen: '127.0.0.1',
        fsync: 'off',
        socket: server.directory,
      });
      await client.end();
      const owner = (await stat(join(server.directory, 'data'))).uid;
      // PostgreSQL refuses root: as root, the server runs as the Debian `postgres` user.
      if (process.getuid?.() === 0) expect(owner).not.toBe(0);
      else expect(owner).toBe(process.getuid?.());
    } finally {
      await server.stop();
    }
    await expect(access(server.directory)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('goes down with kill() and comes back with its data on the same port', async () => {
    const server = await startPostgres();
    try {
      const before = await connect(server.url);
      await before.query('CREATE TABLE kept (n integer); INSERT INTO kept VALUES (42)');
      const cut = new Promise((resolve) => before.once('end', resolve));
      await server.kill();
      await cut;
      await expect(connect(server.url)).rejects.toThrow();

      await server.restart();
      const after = await connect(server.url);
      expect((await after.query('SELECT n FROM kept')).rows).toEqual([{ n: 42 }]);
      await after.end();
    } finally {
      await server.stop();
    }
  });

  it('says how to install PostgreSQL when it cannot find it', async () => {
    const error = await startPostgres({ binDirectory: '/nonexistent' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PostgresNotInstalledError);
    expect(error).toMatchObject({ code: 'ERR_POSTGRES_NOT_INSTALLED' });
    expect((error as Error).message).toMatch(/apt-get install postgresql/);
  });
});

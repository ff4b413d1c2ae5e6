#!/usr/bin/env node
// Makes sure a redis-server binary exists before the tests start one on a free port.
// Installs it with apt-get when running as root on Debian/Ubuntu; otherwise stops at
// once with one line saying how to get it.
import { execFileSync, spawnSync } from 'node:child_process';

const has = (command) =>
  spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

if (!has('redis-server')) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && has('apt-get')) {
    console.log(
      'redis-server not found: installing it with apt-get (Debian package redis-server)...',
    );
    try {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
      execFileSync('apt-get', ['install', '-y', '-qq', 'redis-server'], {
        stdio: 'ignore',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    } catch {
      // Reported below.
    }
  }
  if (!has('redis-server')) {
    console.error(
      'The tests need redis-server on PATH: install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) and run the tests again.',
    );
    process.exit(1);
  }
}

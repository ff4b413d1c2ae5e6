#!/usr/bin/env node
// Makes sure the servers the tests start on free ports are installed: redis-server (and
// redis-cli, which creates the test Cluster), and
// PostgreSQL's initdb and postgres (Debian keeps them in /usr/lib/postgresql/<version>/bin,
// off PATH). Installs what is missing with apt-get when running as root on Debian/Ubuntu;
// otherwise stops at once with one line saying how to get it.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const has = (command) =>
  spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

const hasPostgres = () => {
  if (has('initdb') && has('postgres')) return true;
  try {
    return readdirSync('/usr/lib/postgresql').some((version) =>
      existsSync(`/usr/lib/postgresql/${version}/bin/initdb`),
    );
  } catch {
    return false;
  }
};

const services = [
  {
    name: 'redis-server',
    debianPackage: 'redis-server',
    // redis-cli creates the test Cluster; Debian's redis-server brings it (redis-tools).
    installed: () => has('redis-server') && has('redis-cli'),
    howTo:
      'redis-server and redis-cli on PATH (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)',
  },
  {
    name: 'PostgreSQL',
    debianPackage: 'postgresql',
    installed: hasPostgres,
    howTo:
      "PostgreSQL's initdb and postgres (Debian/Ubuntu: sudo apt-get install postgresql; macOS: brew install postgresql)",
  },
];

const missing = services.filter((service) => !service.installed());
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (missing.length > 0 && isRoot && has('apt-get')) {
  const packages = missing.map((service) => service.debianPackage);
  console.log(`Installing ${packages.join(' and ')} with apt-get (Debian packages)...`);
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
    execFileSync('apt-get', ['install', '-y', '-qq', ...packages], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch {
    // Reported below.
  }
}
const stillMissing = missing.filter((service) => !service.installed());
if (stillMissing.length > 0) {
  console.error(
    `The tests need ${stillMissing.map((service) => service.howTo).join(' and ')}: install ${stillMissing.length > 1 ? 'them' : 'it'} and run the tests again.`,
  );
  process.exit(1);
}

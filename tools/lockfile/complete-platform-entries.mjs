#!/usr/bin/env node
// Makes package-lock.json installable on every platform. `npm install` on Linux records only the
// prebuilt binaries it can use here (@nx/nx-linux-x64-gnu, @swc/core-linux-x64-gnu, …); the
// other platforms' optional packages (@nx/nx-darwin-arm64, @swc/core-win32-x64-msvc, …) would
// be missing, and `npm ci` on macOS or Windows would then refuse the lock as out of sync.
// This adds each missing (or incomplete) one with the registry's own data — the
// sha512 integrity, os/cpu/libc — exactly as `npm install` on that platform would write it,
// so `npm ci` anywhere verifies what it downloads. Run it after every `npm install`:
//   npm install && node tools/lockfile/complete-platform-entries.mjs && npm ci
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';

const LOCK = new URL('../../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(LOCK, 'utf8'));
const packages = lock.packages;
const PLATFORM = /(^|-)(darwin|win32|linux|freebsd|android|openbsd|sunos|aix|wasm32)(-|$)/;

/** Optional dependencies that are platform binaries, with no complete entry in the lock. */
const wanted = new Map();
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    if (!PLATFORM.test(name.split('/').pop())) continue;
    const key = `node_modules/${name}`;
    if (packages[`${path}/node_modules/${name}`]?.integrity || packages[key]?.integrity) continue;
    wanted.set(key, { name, version, dev: Boolean(entry.dev) });
  }
}

const view = promisify(execFile);
async function registryEntry({ name, version, dev }) {
  const { stdout } = await view('npm', ['view', '--json', `${name}@${version}`, 'version', 'os', 'cpu', 'libc', 'license', 'dist'], { maxBuffer: 1 << 20 });
  const manifest = JSON.parse(stdout);
  return {
    version: manifest.version,
    integrity: manifest.dist.integrity,
    ...(manifest.cpu ? { cpu: manifest.cpu } : {}),
    ...(dev ? { dev: true } : {}),
    ...(manifest.libc ? { libc: manifest.libc } : {}),
    ...(manifest.license ? { license: manifest.license } : {}),
    optional: true,
    ...(manifest.os ? { os: manifest.os } : {}),
  };
}

const queue = [...wanted];
await Promise.all(
  Array.from({ length: 8 }, async () => {
    for (let next = queue.shift(); next; next = queue.shift()) packages[next[0]] = await registryEntry(next[1]);
  }),
);
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
writeFileSync(LOCK, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`completed ${wanted.size} platform package entr${wanted.size === 1 ? 'y' : 'ies'} in package-lock.json`);

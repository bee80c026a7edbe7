#!/usr/bin/env node
// The npm registry mirror reachable here lacks the other platforms' prebuilt binaries
// (@nx/nx-darwin-arm64, @swc/core-win32-x64-msvc, …), so `npm install` leaves them out of
// package-lock.json and `npm ci` then refuses the lock as out of sync. This records each
// missing optional platform package as a stub entry with its os/cpu/libc, which `npm ci`
// skips on this platform without fetching. Run it after every `npm install`.
import { readFileSync, writeFileSync } from 'node:fs';

const LOCK = new URL('../../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(LOCK, 'utf8'));
const packages = lock.packages;

function platformOf(name) {
  const tail = name.split('/').pop();
  const os = ['darwin', 'win32', 'linux', 'freebsd', 'android', 'openbsd', 'sunos', 'aix'].find((o) => tail.includes(o));
  const cpu = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'riscv64', 'loong64'].find((c) => new RegExp(`(^|-)${c}(-|$)`).test(tail.replace(/gnueabihf/, '')));
  const libc = tail.includes('musl') ? ['musl'] : os === 'linux' ? ['glibc'] : undefined;
  return { os, cpu, libc };
}

let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const base = path === '' ? '' : `${path}/`;
    const target = `${base.replace(/[^/]+\/?$/, '') === base ? base : ''}node_modules/${dep}`;
    const hoisted = `node_modules/${dep}`;
    if (packages[hoisted] || packages[`${path}/node_modules/${dep}`] || packages[target]) continue;
    const { os, cpu, libc } = platformOf(dep);
    if (!os || !cpu) continue; // not a platform binary: leave it to npm
    packages[hoisted] = { version, optional: true, ...(entry.dev ? { dev: true } : {}), os: [os], cpu: [cpu], ...(libc ? { libc } : {}) };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
writeFileSync(LOCK, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} platform stub(s) to package-lock.json`);

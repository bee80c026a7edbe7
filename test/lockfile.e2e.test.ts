/**
 * The committed package-lock.json installs on Linux, macOS and Windows: every platform binary
 * Nx and SWC may need has a complete entry (integrity, os, cpu), and `npm ci` for another
 * platform picks that platform's binaries from the lock (a dry run: nothing is downloaded).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from './support/workspace.ts';

const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8'));
let dir: string;

beforeAll(() => {
  // the manifests alone: npm ci reads package.json files and the lock
  dir = mkdtempSync(join(tmpdir(), 'tributary-lock-'));
  for (const file of ['package.json', 'package-lock.json']) cpSync(join(REPO, file), join(dir, file));
  for (const group of ['apps', 'libs']) {
    for (const name of readdirSync(join(REPO, group))) {
      mkdirSync(join(dir, group, name), { recursive: true });
      cpSync(join(REPO, group, name, 'package.json'), join(dir, group, name, 'package.json'));
    }
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('package-lock.json on every platform', () => {
  it('gives every optional platform binary an integrity (npm ci verifies what it downloads)', () => {
    const incomplete = Object.entries<any>(lock.packages)
      .filter(([, entry]) => entry.optional && entry.os)
      .filter(([, entry]) => !entry.integrity)
      .map(([path]) => path);
    expect(incomplete).toEqual([]);
  });

  for (const [os, cpu, nx, swc] of [
    ['darwin', 'arm64', '@nx/nx-darwin-arm64', '@swc/core-darwin-arm64'],
    ['darwin', 'x64', '@nx/nx-darwin-x64', '@swc/core-darwin-x64'],
    ['win32', 'x64', '@nx/nx-win32-x64-msvc', '@swc/core-win32-x64-msvc'],
    ['linux', 'arm64', '@nx/nx-linux-arm64-gnu', '@swc/core-linux-arm64-gnu'],
  ]) {
    it(`npm ci for ${os}-${cpu} takes its Nx and SWC binaries from the lock`, () => {
      const out = execFileSync('npm', ['ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund', `--os=${os}`, `--cpu=${cpu}`, '--libc=glibc'], { cwd: dir, encoding: 'utf8' });
      expect(out).toContain(`add ${nx} `);
      expect(out).toContain(`add ${swc} `);
    });
  }
});

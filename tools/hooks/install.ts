/**
 * `npm run hooks:install [-- --force]`: installs tools/hooks/pre-commit as the repository's git
 * pre-commit hook (honouring core.hooksPath). It never replaces a hook it did not install
 * unless told to with --force.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const TEMPLATE = join(import.meta.dirname, 'pre-commit');
const MARKER = 'Tributary pre-commit hook';

function git(...args: string[]): string {
  return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(1);
}

let hooksDir: string;
try {
  hooksDir = resolve(git('rev-parse', '--git-path', 'hooks'));
} catch {
  fail(`${process.cwd()} is not inside a git repository: run \`git init\` (or clone the repository) first.`);
}
const target = join(hooksDir, 'pre-commit');
const where = relative(process.cwd(), target) || target;
if (existsSync(target) && !readFileSync(target, 'utf8').includes(MARKER) && !process.argv.includes('--force')) {
  fail(`${where} already exists and was not installed by Tributary: add \`npx migrate makemigrations --check\` to it yourself, or rerun with \`npm run hooks:install -- --force\` to replace it.`);
}
mkdirSync(hooksDir, { recursive: true });
copyFileSync(TEMPLATE, target);
chmodSync(target, 0o755);
console.log(`Installed ${where}: every commit now runs \`migrate makemigrations --check\` and is blocked while a model change has no migration.`);

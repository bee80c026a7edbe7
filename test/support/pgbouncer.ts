/**
 * A real PgBouncer in front of the test PostgreSQL, started by a test on a free port in the
 * pooling mode it asks for and stopped afterwards. PgBouncer refuses to run as root, so as root
 * it drops to the `postgres` user (`-u`). Missing PgBouncer is a failure with the fix, never a skip.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_URL } from './database.ts';

export type PoolMode = 'session' | 'transaction' | 'statement';

export interface PgBouncer {
  port: number;
  /** The URL of `database` through the pooler (same user as the test PostgreSQL). */
  url(database: string): string;
  stop(): Promise<void>;
}

export function pgbouncerBinary(): string {
  const found = spawnSync('sh', ['-c', 'command -v pgbouncer || ls /usr/sbin/pgbouncer'], { encoding: 'utf8' });
  const path = found.stdout.trim().split('\n')[0];
  if (found.status !== 0 || !path) throw new Error('PgBouncer is not installed: run `apt-get install -y pgbouncer` (.ci/run does it when it is missing).');
  return path;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startPgBouncer(mode: PoolMode): Promise<PgBouncer> {
  const binary = pgbouncerBinary();
  const upstream = new URL(ADMIN_URL);
  const user = decodeURIComponent(upstream.username || 'postgres');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tributary-pgbouncer-'));
  chmodSync(dir, 0o755); // readable by the user PgBouncer drops to
  writeFileSync(join(dir, 'users.txt'), `"${user}" ""\n`, { mode: 0o644 });
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${upstream.hostname} port=${upstream.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'users.txt')}`,
      `pool_mode = ${mode}`,
      'default_pool_size = 20',
      'max_client_conn = 200',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const asRoot = process.getuid?.() === 0 ? ['-u', 'postgres'] : [];
  const child = spawn(binary, [...asRoot, join(dir, 'pgbouncer.ini')], { stdio: ['ignore', 'pipe', 'pipe'] });
  await listeningOn(child, port);
  const exited = new Promise((resolve) => child.on('close', resolve));
  return {
    port,
    url: (database) => `postgres://${user}@127.0.0.1:${port}/${database}`,
    stop: async () => {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once PgBouncer logs that it listens; rejects with its log if it exits or stays silent. */
function listeningOn(child: ChildProcess, port: number): Promise<void> {
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`PgBouncer did not listen on ${port} within 10 s:\n${log}`)), 10_000);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes(`listening on 127.0.0.1:${port}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`PgBouncer exited with code ${code} before listening:\n${log}`));
    });
  });
}

/**
 * Extra PostgreSQL servers for tests and the benchmark: a real cluster each (`initdb` + `pg_ctl`)
 * in a temporary folder, on a free port, listening on 127.0.0.1 only, stopped and removed
 * afterwards. As root, the server runs as the `postgres` user (PostgreSQL refuses root). A
 * cluster made with a password asks for it (scram) over TCP; otherwise it trusts.
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export interface Cluster {
  port: number;
  /** The URL of `database` on this server (with the password when it has one). */
  url(database: string): string;
  stop(): Promise<void>;
}

/** The newest PostgreSQL server binaries installed (Debian layout), e.g. /usr/lib/postgresql/15/bin. */
export function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin/initdb'))) : [];
  const newest = versions.sort((a, b) => Number(a) - Number(b)).at(-1);
  if (!newest) throw new Error('PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql: install postgresql.');
  return join(root, newest, 'bin');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

/** Runs a server binary, as `postgres` when we are root. */
async function asServerUser(binary: string, args: string[]): Promise<void> {
  if (process.getuid?.() === 0) await run('su', ['postgres', '-s', '/bin/sh', '-c', [binary, ...args].map(quote).join(' ')]);
  else await run(binary, args);
}

export async function startCluster(options: { password?: string } = {}): Promise<Cluster> {
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), 'tributary-cluster-'));
  const data = join(dir, 'data');
  const root = process.getuid?.() === 0;
  if (root) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const uid = Number(stdout.trim());
    chownSync(dir, uid, uid);
  }
  chmodSync(dir, 0o755);
  const auth = ['--auth-local=trust', `--auth-host=${options.password ? 'scram-sha-256' : 'trust'}`];
  if (options.password) {
    writeFileSync(join(dir, 'pw'), `${options.password}\n`, { mode: 0o644 });
  }
  await asServerUser(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-E', 'UTF8', '--no-sync', ...auth, ...(options.password ? [`--pwfile=${join(dir, 'pw')}`] : [])]);
  const port = await freePort();
  const serverOptions = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=32MB`;
  await asServerUser(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'log'), '-o', serverOptions, '-w', '-t', '60', 'start']);
  const credentials = options.password ? `postgres:${encodeURIComponent(options.password)}` : 'postgres';
  return {
    port,
    url: (database) => `postgres://${credentials}@127.0.0.1:${port}/${database}`,
    stop: async () => {
      await asServerUser(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs one statement on `url` with a connection of its own. */
export async function sqlOn<T = any>(url: string, text: string, params?: unknown[]): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query(text, params as any[])).rows;
  } finally {
    await client.end();
  }
}

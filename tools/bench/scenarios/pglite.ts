/**
 * The embedded PGlite database (no DATABASE_URL) on the example workspace: every CLI command's
 * wall time and peak RSS as one process (≤ 1.5 s, ≤ 250 MB), the first command of a fresh clone
 * (it creates the database), and `npm start` on a fresh clone: when its first line appears
 * (≤ 1 s) and when it listens (≤ 5 s).
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { scratchWorkspace, type Workspace } from '../../../test/support/workspace.ts';
import { childEnv, measure, median, runOnce, type Command, type Run, type Sample } from '../measure.ts';
import type { Row } from '../report.ts';
import { tributary, type Size } from './context.ts';

const WALL_MS = 1500;
const RSS_MB = 250;
const FIRST_LINE_MS = 1000;
const LISTENING_MS = 5000;

/** A command and the state it needs before each timed run (untimed). */
interface Case {
  args: string[];
  prepare?: 'applied' | 'pending' | 'unrecorded' | 'fresh';
  /** What stdout must show (the run did its job). */
  expect?: RegExp;
}

export async function benchPglite(size: Size): Promise<Row[]> {
  const ws = scratchWorkspace();
  try {
    const stream = ws.migrations();
    const migrations = stream.length;
    const cli = async (...args: string[]) => void (await runOnce(tributary(`migrate ${args.join(' ')}`, ws.dir, args)));
    const state = {
      applied: () => cli('migrate'),
      pending: async () => {
        await cli('migrate');
        await cli('rollback', '--steps', String(migrations));
      },
      // Applied, then un-recorded: the tables are there, the history is empty (what stamp is for).
      unrecorded: async () => {
        await cli('migrate');
        await cli('rollback', '--fake', '--steps', String(migrations));
      },
      fresh: () => rmSync(ws.path('.data'), { recursive: true, force: true }),
    };
    await cli('migrate'); // creates the database, and warms the compile cache for every run after
    const cases: Case[] = [
      { args: ['migrate'], prepare: 'pending', expect: new RegExp(`Applied ${migrations} migrations`) },
      { args: ['migrate', '--dry-run'], prepare: 'pending' },
      { args: ['showmigrations'], prepare: 'applied' },
      { args: ['showmigrations', '--json'], prepare: 'applied', expect: /"pending": 0/ },
      { args: ['check'], prepare: 'applied', expect: /Check passed/ },
      { args: ['history'], prepare: 'applied' },
      { args: ['current'], prepare: 'applied' },
      { args: ['validate'], prepare: 'applied', expect: /History and stream agree/ },
      { args: ['repair'], prepare: 'applied' },
      { args: ['rollback'], prepare: 'applied', expect: /Rolled back 1 migration/ },
      { args: ['lint'], prepare: 'pending' },
      { args: ['graph'], prepare: 'applied' },
      { args: ['makemigrations', '--check'] },
      { args: ['sql', stream[0]!.replace(/\.ts$/, '')] },
      { args: ['stamp', 'head'], prepare: 'unrecorded', expect: new RegExp(`Stamped ${migrations} migrations`) },
      { args: ['migrate'], prepare: 'fresh', expect: new RegExp(`Applied ${migrations} migrations`) },
    ];
    const rows: Row[] = [];
    const scale = `example workspace, ${migrations} migrations`;
    for (const { args, prepare, expect } of cases) {
      const command: Command = {
        ...tributary(`migrate ${args.join(' ')}`, ws.dir, args),
        prepare: prepare && state[prepare],
        verify: expect && ((run: Run) => void (expect.test(run.stdout) || fail(`migrate ${args.join(' ')} printed no ${expect}:\n${run.stdout}${run.stderr}`))),
      };
      const sample = await measure(command, size.repeats, false);
      const title = prepare === 'fresh' ? 'PGlite: migrate on a fresh clone (creates the database)' : `PGlite: ${args.join(' ')}`;
      rows.push(judged(`pglite_${args.join('_').replace(/\W+/g, '_')}${prepare === 'fresh' ? '_fresh' : ''}`, title, scale, sample, size));
    }
    rows.push(...(await npmStart(ws, size)));
    return rows;
  } finally {
    ws.dispose();
  }
}

function fail(message: string): never {
  throw new Error(`bench: ${message}`);
}

function judged(key: string, title: string, scale: string, sample: Sample, size: Size): Row {
  return {
    key,
    title,
    size: size.label,
    scale,
    ours: sample,
    budget: `≤ ${WALL_MS / 1000} s, ≤ ${RSS_MB} MB`,
    ok: sample.wallMs <= WALL_MS && sample.rssMb <= RSS_MB,
    judgedWhenQuick: true, // the example workspace is the same in both modes
  };
}

/** `npm start` on a fresh clone (no .data/), as a user types it: ms to its first own line and to "listening". */
async function npmStart(ws: Workspace, size: Size): Promise<Row[]> {
  const firstLine: number[] = [];
  const listening: number[] = [];
  for (let i = 0; i < size.repeats; i++) {
    rmSync(ws.path('.data'), { recursive: true, force: true });
    const times = await startUntilListening(ws.dir);
    firstLine.push(times.firstLine);
    listening.push(times.listening);
  }
  const sample = (runs: number[]): Sample => ({ wallMs: median(runs), rssMb: Number.NaN, runs: runs.map(Math.round) });
  const scale = 'example workspace, fresh clone (no .data/)';
  const first = sample(firstLine);
  const listen = sample(listening);
  const row = (key: string, title: string, ours: Sample, budgetMs: number): Row => ({
    key,
    title,
    size: size.label,
    scale,
    ours,
    budget: `≤ ${budgetMs / 1000} s`,
    ok: ours.wallMs <= budgetMs,
    judgedWhenQuick: true,
  });
  return [row('pglite_npm_start_first_line', 'PGlite: npm start, first line', first, FIRST_LINE_MS), row('pglite_npm_start_listening', 'PGlite: npm start, listening', listen, LISTENING_MS)];
}

/** Spawns `npm start` on a free port; resolves with the times once it listens, after stopping it (SIGTERM to its group). */
function startUntilListening(dir: string): Promise<{ firstLine: number; listening: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('npm', ['start'], { cwd: dir, env: childEnv({ PORT: '0' }), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    let firstLine: number | undefined;
    let listening: number | undefined;
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 60_000);
    const seen = (chunk: Buffer) => {
      output += chunk;
      // npm's own lines ("> tributary@… start", "> node …") come before the gateway's.
      const own = output.split('\n').filter((line) => line.trim() && !line.startsWith('>') && !line.startsWith('npm '));
      if (firstLine === undefined && own.length > 0) firstLine = performance.now() - started;
      if (listening === undefined && /listening on http/.test(output)) {
        listening = performance.now() - started;
        process.kill(-child.pid!, 'SIGTERM');
      }
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      if (firstLine === undefined || listening === undefined) reject(new Error(`bench: npm start did not listen:\n${output.slice(-2000)}`));
      else resolve({ firstLine, listening });
    });
  });
}

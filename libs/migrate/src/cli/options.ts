/**
 * Every flag of the commands that Nx runs too, defined once. Commander's options, the Nx
 * executors' schemas (`nx/executors/*.schema.json`, rewritten by `npx node
 * libs/migrate/tools/write-executor-schemas.ts`, kept equal by a test) and the translation into
 * the library's options all come from this table; the README's command table is checked against
 * `--help` by cli/readme.test.ts.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { MakeMigrationsOptions } from '../diff/makemigrations.ts';
import type { MigrateOptions } from '../executor/migrate.ts';
import type { RollbackOptions } from '../executor/rollback.ts';

export interface FlagSpec {
  /** Commander's syntax: `--lock-wait <seconds>`, `-m, --message <msg>`. */
  flags: string;
  help: string;
  kind: 'boolean' | 'string' | 'integer' | 'list';
  /** Smallest value of an `integer`. */
  min?: number;
  /** Where Nx's wording differs (what a service project means, say). */
  nxHelp?: string;
  /** Only on the command line (`--yes`), or only in Nx (`db`). */
  only?: 'cli' | 'nx';
}

const SERVICES_NX = 'Only these services (the migrations project only; a service project is its own service).';
const services = (help: string): FlagSpec => ({ flags: '--service <name>', help, kind: 'list', nxHelp: SERVICES_NX });
const TARGETS: FlagSpec = {
  flags: '--targets <file|group>',
  help: 'every database of a targets file (one URL per line) or of a group in tributary.config.json',
  kind: 'string',
  nxHelp: 'Every database of this targets file (one PostgreSQL URL per line) or group of tributary.config.json. Like `--targets`.',
};
const CONCURRENCY: FlagSpec = { flags: '--concurrency <n>', help: 'with --targets: databases worked on at once (default 4)', kind: 'integer', min: 1 };
const DRY_RUN: FlagSpec = { flags: '--dry-run', help: 'print the SQL and change nothing', kind: 'boolean' };

export const COMMAND_FLAGS = {
  makemigrations: [
    { flags: '-m, --message <msg>', help: 'what the migration does (becomes the file slug)', kind: 'string' },
    services('only this service (repeatable)'),
    { flags: '--empty', help: 'write a blank data migration (needs --service)', kind: 'boolean' },
    { flags: '--check', help: 'write nothing; exit 1 if a model change lacks a migration', kind: 'boolean' },
    { flags: '--dry-run', help: 'print the file(s) instead of writing them', kind: 'boolean' },
  ],
  migrate: [
    services("apply this service's pending migrations and what they depend on (repeatable)"),
    { flags: '--to <name>', help: 'stop after this migration', kind: 'string' },
    DRY_RUN,
    { flags: '--fake', help: 'record as applied without running', kind: 'boolean' },
    { flags: '--allow-out-of-order', help: 'apply pending migrations older than applied ones of the same service', kind: 'boolean' },
    { flags: '--lock-wait <seconds>', help: "seconds to wait for another runner's lock (default 60)", kind: 'integer', min: 0 },
    { flags: '--lock-retries <n>', help: 'retries when a statement times out waiting for a table lock', kind: 'integer', min: 0 },
    { flags: '--lock-timeout <duration>', help: 'PostgreSQL lock_timeout for every statement (default 5s)', kind: 'string' },
    { flags: '--statement-timeout <duration>', help: 'PostgreSQL statement_timeout for every statement', kind: 'string' },
    { flags: '--atomic', help: 'apply the whole batch in one transaction: all or nothing', kind: 'boolean' },
    { flags: '--backup', help: 'write a pg_dump of the database to .data/backups/ before applying', kind: 'boolean' },
    { flags: '--allow-destructive', help: 'apply migrations whose destructive lint errors (drop table/column, narrowing) the file does not acknowledge', kind: 'boolean' },
    TARGETS,
    CONCURRENCY,
    { flags: '--canary <n>', help: 'with --targets: migrate the first N targets first, the rest only if they all succeed', kind: 'integer', min: 1 },
    { flags: '--continue-on-error', help: 'with --targets: keep going when a target fails', kind: 'boolean' },
    { flags: '--json', help: 'with --targets: print one JSON document', kind: 'boolean' },
  ],
  showmigrations: [services('only this service (repeatable)'), { flags: '--json', help: 'print JSON', kind: 'boolean' }, TARGETS, CONCURRENCY],
  check: [
    services('only this service (repeatable)'),
    { flags: '--json', help: 'print JSON', kind: 'boolean' },
    { flags: '--offline', help: 'do not look at the database', kind: 'boolean', only: 'cli' },
    { flags: '--db', help: 'also check the database (never answered from the cache)', kind: 'boolean', only: 'nx' },
    { flags: '--since <rev>', help: 'fail if a migration that existed at this git revision was edited or deleted', kind: 'string', nxHelp: 'Fail if a migration that existed at this git revision was edited or deleted (never answered from the cache).' },
    TARGETS,
    CONCURRENCY,
  ],
  rollback: [
    { flags: '-s, --steps <n>', help: 'how many to revert (default 1)', kind: 'integer', min: 1 },
    { flags: '--to <name>', help: 'revert everything applied after this migration (it stays applied)', kind: 'string' },
    { flags: '--service <name>', help: "only this service's migrations", kind: 'string', nxHelp: "Only this service's migrations (the migrations project only)." },
    DRY_RUN,
    { flags: '--fake', help: 'un-record without running down() (e.g. after a mistaken migrate --fake)', kind: 'boolean' },
    { flags: '-y, --yes', help: 'do not ask for confirmation on a terminal', kind: 'boolean', only: 'cli' },
  ],
} satisfies Record<string, FlagSpec[]>;

export type FlaggedCommand = keyof typeof COMMAND_FLAGS;

/** `--lock-wait <seconds>` → `lockWait`, as commander names the value. */
export function attributeName(spec: FlagSpec): string {
  const long = spec.flags.match(/--([a-z-]+)/)![1]!;
  return long.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function integer(flag: string, min: number) {
  return (value: string) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min) throw new InvalidArgumentError(`${flag} needs a whole number of at least ${min}.`);
    return n;
  };
}

/** Adds `name`'s flags to a commander command. */
export function withFlags(command: Command, name: FlaggedCommand): Command {
  for (const spec of COMMAND_FLAGS[name] as FlagSpec[]) {
    if (spec.only === 'nx') continue;
    const option = new Option(spec.flags, spec.help);
    if (spec.kind === 'integer') option.argParser(integer(option.short ?? option.long!, spec.min ?? 0));
    if (spec.kind === 'list') option.argParser((value: string, previous: string[] = []) => [...previous, value]);
    command.addOption(option);
  }
  return command;
}

/** The properties of `name`'s Nx executor schema. */
export function executorProperties(name: FlaggedCommand): Record<string, object> {
  const sentence = (text: string) => `${text[0]!.toUpperCase()}${text.slice(1)}.`;
  const properties: Record<string, object> = {};
  for (const spec of COMMAND_FLAGS[name] as FlagSpec[]) {
    if (spec.only === 'cli') continue;
    const type =
      spec.kind === 'list' ? { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] } : spec.kind === 'integer' ? { type: 'integer', minimum: spec.min ?? 0 } : { type: spec.kind };
    const short = spec.flags.match(/^-([a-z]),/)?.[1];
    properties[attributeName(spec)] = { ...type, description: spec.nxHelp ?? sentence(spec.help), ...(short ? { alias: short } : {}) };
  }
  return properties;
}

/** Flag values (commander's, or an Nx executor's options: the same names) as the library's options. */
export function migrateOptions(values: Record<string, any>, services: string[] | undefined): MigrateOptions {
  return {
    services,
    to: values.to,
    dryRun: values.dryRun,
    fake: values.fake,
    allowOutOfOrder: values.allowOutOfOrder,
    lockWaitSeconds: values.lockWait,
    lockRetries: values.lockRetries,
    lockTimeout: values.lockTimeout,
    statementTimeout: values.statementTimeout,
    atomic: values.atomic,
    backup: values.backup,
    allowDestructive: values.allowDestructive,
  };
}

export function makemigrationsOptions(values: Record<string, any>, services: string[] | undefined): MakeMigrationsOptions {
  return { message: values.message, services, empty: values.empty, check: values.check, dryRun: values.dryRun };
}

export function rollbackOptions(values: Record<string, any>, service: string | undefined): RollbackOptions & { yes?: boolean } {
  return { steps: values.steps, to: values.to, service, dryRun: values.dryRun, fake: values.fake, yes: values.yes };
}

/** `--targets`' companions, from flag values. */
export function fanOutFlags(values: Record<string, any>, cwd?: string) {
  return { targets: values.targets as string, cwd, concurrency: values.concurrency, canary: values.canary, continueOnError: values.continueOnError, json: values.json };
}

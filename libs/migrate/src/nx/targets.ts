/**
 * The Nx targets Tributary infers: the per-service set (makemigrations, migrate, migrate-check,
 * showmigrations, rollback) and the global set of the `migrations` project. Pure data: which
 * executor, which inputs make `migrate-check` cacheable, which targets must run alone.
 */
import type { TargetConfiguration } from '@nx/devkit';

type Input = NonNullable<TargetConfiguration['inputs']>[number];

export const EXECUTORS = '@tributary/migrate';
/** The project of the stream folder, which carries the global targets. */
export const STREAM_PROJECT = 'migrations';
export const SERVICE_TARGETS = ['makemigrations', 'migrate', 'migrate-check', 'showmigrations', 'rollback'] as const;
export const STREAM_TARGETS = ['makemigrations', 'migrate', 'showmigrations', 'check', 'rollback'] as const;

/** Where the tool's own code comes from, for the cache key of `migrate-check`. */
export type ToolSource =
  /** The library is part of the workspace (this repository): its files, relative to the root. */
  | { kind: 'workspace'; root: string }
  /** The library is installed: the lockfile's entry of the package, or (not in a lockfile) its version. */
  | { kind: 'package'; name: string; locked: boolean };

export interface ServiceTargetsInput {
  /** The service's models folder, relative to its project root (e.g. `src/db/models`). */
  modelsDir: string;
  /** Workspace files outside the models folder that the models import (relative to the root). */
  importedFiles: string[];
  /** The stream folder relative to the workspace root (e.g. `migrations`). */
  migrationsDir: string;
  /** The snapshot shards' folder relative to the workspace root (e.g. `migrations/.snapshots`). */
  snapshotsDir: string;
  /** This service and the services whose models its models import (their tables are referenced). */
  streamServices: string[];
  tool: ToolSource;
}

const run = (name: string, extra: Partial<TargetConfiguration> = {}): TargetConfiguration => ({
  executor: `${EXECUTORS}:${name}`,
  ...extra,
  metadata: { technologies: ['tributary'], description: DESCRIPTIONS[name], ...extra.metadata },
});

const DESCRIPTIONS: Record<string, string> = {
  makemigrations: 'Write a migration for model changes',
  migrate: 'Apply pending migrations (never in parallel: one database)',
  check: 'Check models, stream and database',
  showmigrations: 'List migrations with their status',
  rollback: 'Revert applied migrations',
};

export function toolInputs(tool: ToolSource): Input[] {
  if (tool.kind === 'package') {
    // Nx refuses an external dependency its lockfile parser did not see (a linked package).
    return tool.locked ? [{ externalDependencies: [tool.name] }] : [{ runtime: `node -p "require('${tool.name}/package.json').version"` }];
  }
  const root = tool.root === '' ? '{workspaceRoot}' : `{workspaceRoot}/${tool.root}`;
  // The library's own unit tests are not part of what the check runs.
  return [{ fileset: `${root}/src/**/*` }, { fileset: `!${root}/src/**/*.test.ts` }, { fileset: `${root}/package.json` }];
}

/**
 * Everything the offline check of one service reads: its models and what they import, and the
 * migrations and shard of itself and of the services its tables reference — not the rest of the
 * stream, so that another service's migration leaves this check a cache hit. (A service name has
 * no underscore: `<date>_<time>_<service>_*` matches that service's files only.)
 */
export function checkInputs(input: ServiceTargetsInput): Input[] {
  return [
    `{projectRoot}/${input.modelsDir}/**/*`,
    ...input.importedFiles.map((file) => `{workspaceRoot}/${file}`),
    ...input.streamServices.flatMap((service) => [
      `{workspaceRoot}/${input.migrationsDir}/????????_??????_${service}_*.ts`,
      `{workspaceRoot}/${input.snapshotsDir}/${service}/*.json`,
    ]),
    '{workspaceRoot}/tributary.config.json',
    ...toolInputs(input.tool),
  ];
}

export function serviceTargets(input: ServiceTargetsInput): Record<string, TargetConfiguration> {
  return {
    makemigrations: run('makemigrations'),
    // Two migrate runs at once would queue on the advisory lock (PostgreSQL) or fail on the
    // embedded database's file lock: tasks that open the database run alone.
    migrate: run('migrate', { parallelism: false }),
    'migrate-check': run('check', {
      cache: true,
      inputs: checkInputs(input),
      outputs: [],
      metadata: { description: 'Fail when models changed without a migration (offline, cached; --db also checks the database, uncached)' },
    }),
    showmigrations: run('showmigrations', { parallelism: false }),
    rollback: run('rollback', { parallelism: false }),
  };
}

export function streamTargets(): Record<string, TargetConfiguration> {
  return {
    makemigrations: run('makemigrations'),
    migrate: run('migrate', { parallelism: false }),
    showmigrations: run('showmigrations', { parallelism: false }),
    // The whole check, database included when there is one: never cached.
    check: run('check', { options: { db: true }, parallelism: false }),
    rollback: run('rollback', { parallelism: false }),
  };
}

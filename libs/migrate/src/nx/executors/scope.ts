/**
 * What an executor run means in Tributary's terms: on a service project, that one service; on
 * the `migrations` project, the whole stream (or the services named with `--service`). Also
 * turns a failure into the CLI's one-sentence error and `{ success: false }`.
 */
import { relative, resolve } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import type { Target } from '../../api.ts';
import { loadConfig } from '../../config/config.ts';
import { discoverServices } from '../../config/services.ts';
import { TributaryError } from '../../errors.ts';
import { reportError } from '../../cli/output.ts';
import { announcingTarget } from '../../cli/verbs.ts';
import { STREAM_PROJECT } from '../targets.ts';

export interface Scope {
  target: Target;
  /** The services the run is about; undefined means every service. */
  services: string[] | undefined;
}

const asList = (value: string | string[] | undefined): string[] | undefined => (value === undefined ? undefined : [value].flat());

export function scopeOf(context: ExecutorContext, requested?: string | string[]): Scope {
  const config = loadConfig({ cwd: context.root });
  const target = announcingTarget(context.root);
  const project = context.projectName ?? '(unknown project)';
  const projectDir = resolve(context.root, context.projectsConfigurations.projects[project]?.root ?? '.');
  if (projectDir === config.migrationsDir) return { target, services: asList(requested) };
  const service = discoverServices(config).find((s) => s.dir === projectDir);
  if (!service) {
    throw new TributaryError(`Project ${project} (${relative(context.root, projectDir) || '.'}) is not a Tributary service: it has no src/db/models/ or db/models/ folder.`);
  }
  const others = asList(requested)?.filter((name) => name !== service.name);
  if (others?.length) {
    throw new TributaryError(`--service ${others[0]} does not apply to project ${project}, which is service ${service.name}; use \`nx run ${STREAM_PROJECT}:${context.targetName} --service ${others[0]}\` instead.`);
  }
  return { target, services: [service.name] };
}

/** Runs one verb for an executor: `{ success }` from its answer, errors told like the CLI tells them. */
export async function runVerb(context: ExecutorContext, requested: string | string[] | undefined, work: (scope: Scope) => Promise<boolean>): Promise<{ success: boolean }> {
  try {
    return { success: await work(scopeOf(context, requested)) };
  } catch (error) {
    reportError(error, context.isVerbose);
    return { success: false };
  }
}

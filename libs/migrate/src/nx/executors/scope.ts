/**
 * What an executor run means in Tributary's terms: on a service project, that one service; on
 * the `migrations` project, the whole stream (or the services named with `--service`). Also
 * turns a failure into the CLI's one-sentence error and `{ success: false }`.
 */
import { relative, resolve } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import type { Target } from '../../api.ts';
import { loadConfig, type TributaryConfig } from '../../config/config.ts';
import { discoverServices, type Service } from '../../config/services.ts';
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

/** The workspace as executors see it: read once per process (a batch of tasks shares it). */
export interface WorkspaceServices {
  config: TributaryConfig;
  services: Service[];
}

export function workspaceServices(root: string): WorkspaceServices {
  const config = loadConfig({ cwd: root });
  return { config, services: discoverServices(config) };
}

export function scopeOf(context: ExecutorContext, requested?: string | string[]): Scope {
  return { target: announcingTarget(context.root), services: servicesOf(context, requested, workspaceServices(context.root)) };
}

/** The services a run of the context's project is about: that service on a service project; on the stream project, `requested` (undefined: all). */
export function servicesOf(context: ExecutorContext, requested: string | string[] | undefined, workspace: WorkspaceServices): string[] | undefined {
  const project = context.projectName ?? '(unknown project)';
  const projectDir = resolve(context.root, context.projectsConfigurations.projects[project]?.root ?? '.');
  if (projectDir === workspace.config.migrationsDir) return asList(requested);
  const service = workspace.services.find((s) => s.dir === projectDir);
  if (!service) {
    throw new TributaryError(`Project ${project} (${relative(context.root, projectDir) || '.'}) is not a Tributary service: it has no src/db/models/ or db/models/ folder.`);
  }
  const others = asList(requested)?.filter((name) => name !== service.name);
  if (others?.length) {
    throw new TributaryError(`--service ${others[0]} does not apply to project ${project}, which is service ${service.name}; use \`nx run ${STREAM_PROJECT}:${context.targetName} --service ${others[0]}\` instead.`);
  }
  return [service.name];
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

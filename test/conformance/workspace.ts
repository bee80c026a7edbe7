/**
 * Scratch workspaces for the conformance suite: the repository's tooling with the conformance
 * services (test/conformance/services) in apps/ instead of the example services, and no stream.
 */
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { scratchWorkspace, type Workspace } from '../support/workspace.ts';

const SERVICES_DIR = join(import.meta.dirname, 'services');

/** The services written with `defineEntity` (commerce-service is the decorated one). */
export const DEFINE_ENTITY_SERVICES = ['identity-service', 'ledger-service', 'publishing-service'];

/** A scratch workspace with the given conformance services (folder names = Nx project names) as its apps. */
export function conformanceWorkspace(services = DEFINE_ENTITY_SERVICES): Workspace {
  // scratchWorkspace needs at least one app to link; copy one and replace it.
  const ws = scratchWorkspace({ apps: ['auth-service'], withStream: false });
  rmSync(ws.path('apps/auth-service'), { recursive: true, force: true });
  rmSync(ws.path('node_modules/@tributary/auth-service'), { force: true });
  for (const service of services) {
    cpSync(join(SERVICES_DIR, service), ws.path('apps', service), { recursive: true });
  }
  return ws;
}

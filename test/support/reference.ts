import { join } from 'node:path';
import { exec, REPO, type Workspace } from './workspace.ts';

/** What MikroORM's schema generator creates from the workspace's current models. */
export async function referenceSchema(ws: Workspace, target: string): Promise<string[]> {
  const result = await exec(process.execPath, [join(REPO, 'test/support/reference-schema.ts'), target, ws.dir], { cwd: ws.dir });
  if (result.code !== 0) throw new Error(`reference schema failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

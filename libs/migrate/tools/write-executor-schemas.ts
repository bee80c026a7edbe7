/**
 * Rewrites the `properties` of each Nx executor schema from the flag table (src/cli/options.ts),
 * keeping each schema's title and description. Run after changing a flag:
 *   npx node libs/migrate/tools/write-executor-schemas.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMAND_FLAGS, executorProperties, type FlaggedCommand } from '../src/cli/options.ts';

const executors = join(import.meta.dirname, '../src/nx/executors');
for (const name of Object.keys(COMMAND_FLAGS) as FlaggedCommand[]) {
  const file = join(executors, `${name}.schema.json`);
  const schema = JSON.parse(readFileSync(file, 'utf8'));
  writeFileSync(file, `${JSON.stringify({ ...schema, properties: executorProperties(name) }, null, 2)}\n`);
  console.log(`wrote ${file}`);
}

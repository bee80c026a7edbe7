/**
 * The Nx executors' schemas are what the flag table (cli/options.ts) says, and offer every flag
 * of the CLI command they stand for under the same name (except the table's CLI-only/Nx-only ones).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../cli/program.ts';
import { COMMAND_FLAGS, executorProperties, type FlaggedCommand } from '../../cli/options.ts';

const executors = JSON.parse(readFileSync(join(import.meta.dirname, '../../../executors.json'), 'utf8')).executors as Record<string, { schema: string }>;
const schemaOf = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, '../../..', executors[name]!.schema), 'utf8'));

describe('executor schemas', () => {
  it('exist for exactly the commands of the flag table', () => {
    expect(Object.keys(executors).sort()).toEqual(Object.keys(COMMAND_FLAGS).sort());
  });

  for (const name of Object.keys(COMMAND_FLAGS) as FlaggedCommand[]) {
    it(`${name}: the schema's properties are the table's (npx node libs/migrate/tools/write-executor-schemas.ts rewrites them)`, () => {
      expect(schemaOf(name).properties).toEqual(executorProperties(name));
    });

    it(`${name}: every CLI flag is in the schema, under the same name, unless the table says CLI-only`, () => {
      const command = buildProgram().commands.find((c) => c.name() === name)!;
      const cliOnly = new Set(COMMAND_FLAGS[name].filter((f: any) => f.only === 'cli').map((f) => f.flags.match(/--([a-z-]+)/)![1]));
      const flags = command.options.filter((o) => !cliOnly.has(o.long!.slice(2))).map((o) => o.attributeName());
      expect(Object.keys(schemaOf(name).properties).filter((p) => !COMMAND_FLAGS[name].some((f: any) => f.only === 'nx' && f.flags.includes(`--${p}`))).sort()).toEqual(flags.sort());
    });
  }
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../cli/program.ts';

const executors = JSON.parse(readFileSync(join(import.meta.dirname, '../../../executors.json'), 'utf8')).executors as Record<string, { schema: string }>;
/** Where an executor deliberately differs from its CLI command. */
const RENAMED: Record<string, Record<string, string>> = { check: { offline: 'db' } };

describe('executor schemas', () => {
  it("offer every flag of the CLI command they stand for, under the same name", () => {
    const program = buildProgram();
    for (const [name, { schema }] of Object.entries(executors)) {
      const command = program.commands.find((c) => c.name() === name);
      expect(command, name).toBeDefined();
      const properties = Object.keys(JSON.parse(readFileSync(join(import.meta.dirname, '../../..', schema), 'utf8')).properties);
      const flags = command!.options.map((option) => option.attributeName()).map((flag) => RENAMED[name]?.[flag] ?? flag);
      expect(properties.sort(), `executor ${name}`).toEqual(flags.sort());
    }
  });
});

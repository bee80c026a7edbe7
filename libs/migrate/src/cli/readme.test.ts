/**
 * The README's command table and `--help` describe the same CLI: every flag of every command is
 * in the table, and every flag the table's examples use exists.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from './program.ts';

const README = readFileSync(join(import.meta.dirname, '../../../../README.md'), 'utf8');

/** Rows of the "## Commands" table, grouped by command (a row with an empty first cell continues the one above). */
function readmeTable(): Map<string, { examples: string; text: string }> {
  const section = README.slice(README.indexOf('## Commands'));
  const table = new Map<string, { examples: string; text: string }>();
  let command = '';
  for (const line of section.split('\n')) {
    if (!line.startsWith('| ') || line.startsWith('| command') || line.startsWith('|---')) {
      if (command && !line.startsWith('|')) break;
      continue;
    }
    const [name = '', example = '', text = ''] = line.split(' | ').map((cell) => cell.replace(/^\| ?|\|$/g, '').trim());
    if (name) command = name.replace(/`/g, '');
    const row = table.get(command) ?? { examples: '', text: '' };
    table.set(command, { examples: `${row.examples} ${example}`, text: `${row.text} ${text}` });
  }
  return table;
}

const flagsIn = (text: string) => new Set(text.match(/(?<![\w-])--?[a-z][a-z-]*/g) ?? []);

describe('README command table vs --help', () => {
  const table = readmeTable();
  const commands = buildProgram().commands.filter((c) => !(c as any)._hidden && c.name() !== 'help');

  it('lists every command', () => {
    expect([...table.keys()].sort()).toEqual(commands.map((c) => c.name()).sort());
  });

  for (const command of commands) {
    it(`${command.name()}: every flag is in the table, every flag of its examples exists`, () => {
      const row = table.get(command.name()) ?? { examples: '', text: '' };
      const documented = flagsIn(`${row.examples} ${row.text}`);
      const missing = command.options.filter((o) => !documented.has(o.long!) && !(o.short && documented.has(o.short))).map((o) => o.long);
      expect(missing, `flags of \`${command.name()}\` missing from the README table`).toEqual([]);
      const known = new Set(command.options.flatMap((o) => [o.long, o.short]).filter(Boolean));
      const unknown = [...flagsIn(row.examples)].filter((flag) => !known.has(flag));
      expect(unknown, `flags in the README examples of \`${command.name()}\` that it does not have`).toEqual([]);
    });
  }
});

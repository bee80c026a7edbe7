import { describe, expect, it } from 'vitest';
import { MigrationGraph } from './graph.ts';
import type { MigrationDefinition } from './migration-file.ts';

const definition = (name: string, dependsOn: string[] = []): MigrationDefinition => ({
  entry: { name, service: name.split('_')[2]!, file: `/m/${name}.ts`, checksum: '' },
  migrationClass: class {} as any,
  dependsOn,
  transactional: true,
  irreversible: false,
  lockTimeout: undefined,
  statementTimeout: undefined,
});

describe('the order of a plan', () => {
  it("puts a dependency's earlier migrations of its own service before it, even when a dependent sorts first", () => {
    const x = definition('20300101_000001_billing_x', ['20300101_000003_ledger_l2']);
    const l1 = definition('20300101_000002_ledger_l1');
    const l2 = definition('20300101_000003_ledger_l2');
    const graph = new MigrationGraph([x, l1, l2], new Set([x, l1, l2].map((d) => d.entry.name)), '/');
    expect(graph.order([x.entry.name, l1.entry.name, l2.entry.name])).toEqual(['20300101_000002_ledger_l1', '20300101_000003_ledger_l2', '20300101_000001_billing_x']);
  });
});

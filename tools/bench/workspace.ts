/**
 * Generates the benchmark's scratch workspaces: S services × E entities with realistic columns,
 * indexes and foreign keys (within a service and across services), and the model changes the
 * incremental runs apply. A workspace's node_modules is a link to this repository's.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');

export interface Shape {
  services: number;
  entitiesPerService: number;
}

export interface BenchWorkspace {
  dir: string;
  services: string[];
  path(...parts: string[]): string;
  dispose(): void;
}

const NOUNS = [
  'account', 'address', 'order', 'order_line', 'invoice', 'payment', 'refund', 'shipment', 'parcel', 'warehouse',
  'product', 'variant', 'price', 'coupon', 'review', 'ticket', 'message', 'attachment', 'audit_event', 'setting',
];
const STATUSES = "['draft', 'active', 'archived']";

export const serviceName = (s: number) => `svc-${String(s).padStart(3, '0')}`;
const prefix = (s: number) => `s${String(s).padStart(3, '0')}`;
const noun = (e: number) => (e < NOUNS.length ? NOUNS[e]! : `${NOUNS[e % NOUNS.length]}_${Math.floor(e / NOUNS.length)}`);
const pascal = (snake: string) => snake.split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
export const entityFile = (e: number) => `${noun(e).replaceAll('_', '-')}.ts`;
const className = (s: number, e: number) => `${pascal(prefix(s))}${pascal(noun(e))}`;
export const tableName = (s: number, e: number) => `${prefix(s)}_${noun(e)}`;

/** A blank workspace folder (nx.json, package.json, node_modules linked to the repo's). */
export function blankWorkspace(label: string): BenchWorkspace {
  const dir = mkdtempSync(join(tmpdir(), `tributary-bench-${label}-`));
  const version = JSON.parse(readFileSync(join(REPO, 'libs/migrate/package.json'), 'utf8')).version;
  const devDependencies = { '@tributary/migrate': version };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: `bench-${label}`, private: true, type: 'module', workspaces: ['apps/*'], devDependencies }, null, 2)}\n`);
  // As after installing the package from a registry: Nx takes the tool's version (an input of
  // the cached migrate-check) from the lockfile; node_modules links to this repository's.
  const installed = { version, resolved: `https://registry.npmjs.org/@tributary/migrate/-/migrate-${version}.tgz`, integrity: 'sha512-bench', dev: true };
  const lock = { name: `bench-${label}`, lockfileVersion: 3, requires: true, packages: { '': { name: `bench-${label}`, devDependencies }, 'node_modules/@tributary/migrate': installed } };
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
  writeFileSync(join(dir, 'nx.json'), `${JSON.stringify({ neverConnectToCloud: true, analytics: false, tui: { enabled: false } }, null, 2)}\n`);
  mkdirSync(join(dir, 'migrations'));
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  return { dir, services: [], path: (...parts) => join(dir, ...parts), dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A workspace of `shape.services` services, each with `shape.entitiesPerService` entities. */
export function generateWorkspace(label: string, shape: Shape): BenchWorkspace {
  const ws = blankWorkspace(label);
  for (let s = 0; s < shape.services; s++) {
    const service = serviceName(s);
    ws.services.push(service);
    const root = ws.path('apps', service);
    mkdirSync(join(root, 'src/db/models'), { recursive: true });
    writeFileSync(join(root, 'package.json'), `${JSON.stringify({ name: `@bench/${service}`, version: '0.0.0', private: true, type: 'module', nx: { name: service } }, null, 2)}\n`);
    for (let e = 0; e < shape.entitiesPerService; e++) writeFileSync(join(root, 'src/db/models', entityFile(e)), entitySource(s, e));
  }
  return ws;
}

/**
 * One entity: about a dozen columns of the usual types, a unique and a plain index, a composite
 * index, a foreign key to the previous entity of the service, and — for every fourth entity of
 * every service but the first — one to the first entity of an earlier service.
 */
function entitySource(s: number, e: number): string {
  const imports = [`import { defineEntity, p } from '@mikro-orm/core';`];
  const relations: string[] = [];
  if (e > 0) {
    imports.push(`import { ${className(s, e - 1)} } from './${entityFile(e - 1).slice(0, -3)}.ts';`);
    relations.push(`    parent: () => p.manyToOne(${className(s, e - 1)}).nullable().deleteRule('set null'),`);
  }
  if (s > 0 && e % 4 === 1) {
    const other = (s * 37 + 11) % s; // an earlier service, spread out
    imports.push(`import { ${className(other, 0)} } from '../../../../${serviceName(other)}/src/db/models/${entityFile(0).slice(0, -3)}.ts';`);
    relations.push(`    owner: () => p.manyToOne(${className(other, 0)}).index(),`);
  }
  const id = e % 3 === 2 ? 'p.uuid().primary()' : 'p.integer().primary().autoincrement()';
  return `${imports.join('\n')}

/** Generated for the benchmark: ${serviceName(s)}'s ${noun(e).replaceAll('_', ' ')}. */
export const ${className(s, e)} = defineEntity({
  name: '${className(s, e)}',
  tableName: '${tableName(s, e)}',
  indexes: [{ properties: ['status', 'createdAt'] }],
  properties: {
    id: ${id},
    code: p.string().length(32).unique(),
    name: p.string().length(200),
    description: p.text().nullable(),
    status: p.enum(${STATUSES}).default('draft'),
    quantity: p.integer().default(0),
    amount: p.decimal().precision(12).scale(2).default('0'),
    active: p.boolean().default(true),
    tags: p.array().default([]),
    attributes: p.json<Record<string, unknown>>().nullable(),
    email: p.string().length(320).nullable().index(),
    createdAt: p.datetime().defaultRaw('now()'),
    updatedAt: p.datetime().nullable(),
${relations.join('\n')}
  },
});
`;
}

/**
 * The model changes of one incremental step, in `changedServices` services spread over the
 * workspace: a new nullable column, a new index, a widened column, a dropped column, and a new
 * entity with foreign keys within and across services. Returns the services it touched.
 */
export function applyModelChanges(ws: BenchWorkspace, shape: Shape, changedServices: number, step = 1): string[] {
  const touched: string[] = [];
  const stride = Math.max(1, Math.floor(shape.services / changedServices));
  for (let k = 0; k < changedServices; k++) {
    const s = Math.min(shape.services - 1, k * stride + (shape.services > 1 ? 1 : 0));
    const models = ws.path('apps', serviceName(s), 'src/db/models');
    const edit = (e: number, from: string, to: string) => {
      const file = join(models, entityFile(e));
      const before = readFileSync(file, 'utf8');
      if (!before.includes(from)) throw new Error(`bench: model change did not apply to ${file} (${from})`);
      writeFileSync(file, before.replace(from, to));
    };
    const last = shape.entitiesPerService - 1;
    edit(0, `    updatedAt: p.datetime().nullable(),`, `    updatedAt: p.datetime().nullable(),\n    note${step}: p.string().length(500).nullable(),`);
    edit(Math.min(1, last), `name: p.string().length(200),`, `name: p.string().length(200).index(),`);
    edit(Math.min(2, last), `code: p.string().length(32).unique(),`, `code: p.string().length(64).unique(),`);
    edit(last, `    description: p.text().nullable(),\n`, ``);
    const added = shape.entitiesPerService + step - 1;
    writeFileSync(join(models, entityFile(added)), entitySource(s, added));
    touched.push(serviceName(s));
  }
  return touched;
}

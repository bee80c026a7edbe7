/**
 * Commands that live in their own modules (one file each); `program.ts` registers them after
 * the core verbs. Add a command by adding its `register` function here.
 */
import type { Command } from 'commander';
import { register as graph } from './graph.ts';
import { register as drift } from './drift.ts';
import { register as lint } from './lint.ts';
import { register as plan } from './plan.ts';
import { register as restore } from './restore.ts';
import { register as sql } from './sql.ts';
import { register as squash } from './squash.ts';
import { register as watch } from './watch.ts';

export const extraCommands: Array<(program: Command) => void> = [drift, graph, lint, plan, restore, sql, squash, watch];

/**
 * One evaluation of the models for `migrate watch`, run in a fresh process so that it imports
 * the model files as they are now (ESM modules are cached for a process's lifetime). Prints one
 * JSON `ProbeReport` on stdout: the would-be migrations, or those written and applied with
 * `--apply`. Usage: `node probe.ts [--apply] [--message MSG] [--service S]…`
 */
import { parseArgs } from 'node:util';
import * as api from '../api.ts';
import { describeError, TributaryError } from '../errors.ts';

export interface ProbeReport {
  files: Array<{ name: string; service: string; file: string; code: string; statements: number; dependsOn: string[] }>;
  written: boolean;
  /** Migrations applied after writing (with `--apply`). */
  applied: string[];
  /** Why it stopped, in one sentence; files written before it stay reported. */
  error?: string;
}

const { values } = parseArgs({ options: { apply: { type: 'boolean' }, message: { type: 'string' }, service: { type: 'string', multiple: true } } });
const report: ProbeReport = { files: [], written: false, applied: [] };
try {
  const made = await api.makemigrations({}, { message: values.message, services: values.service, dryRun: !values.apply });
  report.files = made.files.map(({ name, service, file, code, statements, dependsOn }) => ({ name, service, file, code, statements, dependsOn }));
  report.written = made.written;
  if (values.apply && made.written) report.applied = (await api.migrate({})).applied.map((m) => m.name);
} catch (error) {
  report.error = error instanceof TributaryError ? error.message : `${describeError(error)}`;
  process.exitCode = 1;
}
process.stdout.write(`${JSON.stringify(report)}\n`);

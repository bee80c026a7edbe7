/**
 * `migrate drift [--service S] [--json]`: what differs between the live database and the schema
 * the stream produced, per service, with the SQL that brings it back; exit 1 on drift.
 */
import type { Command } from 'commander';
import * as api from '../../api.ts';
import { announcingTarget } from '../verbs.ts';
import { plural, print, printJson } from '../output.ts';

const MARK = { missing: '+', extra: '-', changed: '~' } as const;

export function register(program: Command): void {
  program
    .command('drift')
    .description('compare the live database with the schema the stream produced; print the SQL that brings it back')
    .option('--service <name>', 'only this service (repeatable)', (value: string, previous: string[] = []) => [...previous, value])
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const report = await api.drift(opts.json ? {} : announcingTarget(), { services: opts.service });
      if (!report.ok) process.exitCode = 1;
      if (opts.json) return printJson(report);
      for (const service of report.services) {
        if (service.status === 'pending') print(`${service.service}: ${service.note}`);
        else if (service.status === 'clean') print(`${service.service}: no drift`);
        else {
          print(`${service.service}: ${plural(service.findings.length, 'difference')} from the stream`);
          for (const finding of service.findings) print(`  ${MARK[finding.kind]} ${finding.detail}`);
          print('  SQL that brings the database back to the stream:');
          for (const sql of service.sql) print(`    ${sql}`);
        }
      }
      if (report.unowned.length > 0) print(`Unowned tables (no service's migrations created them; not drift): ${report.unowned.join(', ')}`);
      print(report.ok ? 'No drift.' : `Drift in ${report.services.filter((s) => s.status === 'drift').map((s) => s.service).join(', ')}.`);
    });
}

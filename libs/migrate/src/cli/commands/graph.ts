/** `migrate graph [--format mermaid|dot|html]`: services and the cross-service dependsOn edges, pending work marked. */
import { Option, type Command } from 'commander';
import * as api from '../../api.ts';
import { note } from '../output.ts';
import { announcingTarget } from '../verbs.ts';

export function register(program: Command): void {
  program
    .command('graph')
    .description("draw the services and their migrations' cross-service dependsOn edges (pending ones marked when a database is reachable)")
    .addOption(new Option('--format <format>', 'mermaid (for Markdown), dot (Graphviz) or html (a page with the status table)').choices(['mermaid', 'dot', 'html']).default('mermaid'))
    .action(async (opts) => {
      const result = await api.graph(announcingTarget());
      if (result.note) note(`Note: ${result.note}.`);
      const { toDot, toMermaid } = await import('../../render/graph-formats.ts'); // the renderers load with this command only
      const { migrationsPage } = await import('../../render/migrations-page.ts');
      const render = { mermaid: () => toMermaid(result.graph), dot: () => toDot(result.graph), html: () => migrationsPage(result) }[opts.format as 'mermaid' | 'dot' | 'html'];
      process.stdout.write(render());
    });
}

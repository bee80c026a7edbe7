/** Entry point of the `migrate` command: parse, run, and turn errors into exit code 1. */
import { buildProgram } from './program.ts';
import { reportError } from './output.ts';

// `migrate showmigrations | head` closes our stdout early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

const program = buildProgram();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  reportError(error, process.argv.includes('--verbose'), process.argv.includes('--json'));
  process.exitCode = 1;
}

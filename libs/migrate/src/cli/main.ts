/** Entry point of the `migrate` command: parse, run, and turn errors into exit code 1. */
import { buildProgram } from './program.ts';
import { reportError } from './output.ts';

const program = buildProgram();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  reportError(error, process.argv.includes('--verbose'));
  process.exitCode = 1;
}

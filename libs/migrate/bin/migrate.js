#!/usr/bin/env node
// The `migrate` command. In the workspace it runs the TypeScript source (Node's type
// stripping); the published build rewrites this import to the compiled JavaScript.
import '../src/cli/main.ts';

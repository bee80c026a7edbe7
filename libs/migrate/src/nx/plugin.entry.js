/**
 * Nx's entry to the plugin in the source workspace (package.json "./plugin"; the published package
 * points at the compiled plugin instead). JavaScript, so that Nx loads the plugin as it loads a
 * published one: for a TypeScript entry Nx first registers its TypeScript resolve hooks in its own
 * process, which every module it loads afterwards (task runner, hasher, cache…) then goes
 * through, ~30 ms of a cold `nx run-many`. Node strips the types of what this imports.
 */
export * from './plugin.ts';

/**
 * Wires a new service into the unified app's registry file (apps/gateway/src/services.ts): one
 * `import { service as … } from '<package>/routes';` line and one entry in the `services`
 * array. Only a file that says it may be edited this way (it names the generator) is touched.
 */

/** The registry's own statement that the generator may append to it. */
export const REGISTRY_MARKER = 'nx g @tributary/migrate:service';

const ROUTES_IMPORT = /^import \{ service as (\w+) \} from '([^']+)\/routes(?:\.ts)?';$/;
const SERVICES_ARRAY = /^export const services\b[^=]*= \[$/;

export interface RegistryEntry {
  /** The local name of the import, e.g. `ordersService`. */
  identifier: string;
  /** The package whose `./routes` export is the service, e.g. `@acme/orders-service`. */
  packageName: string;
}

export type WiringResult =
  | { wired: true; source: string }
  | { wired: false; reason: string };

/** The registry with the service added, or why it cannot be (left unchanged). */
export function addToRegistry(source: string, entry: RegistryEntry): WiringResult {
  if (!source.includes(REGISTRY_MARKER)) return { wired: false, reason: `it does not mention \`${REGISTRY_MARKER}\`, so it is not meant to be edited by the generator` };
  const lines = source.split('\n');
  const imports = lines.flatMap((line, index) => (ROUTES_IMPORT.test(line) ? [index] : []));
  if (imports.some((index) => lines[index]!.match(ROUTES_IMPORT)![2] === entry.packageName)) {
    return { wired: false, reason: `it already imports ${entry.packageName}/routes` };
  }
  const open = lines.findIndex((line) => SERVICES_ARRAY.test(line));
  const close = open < 0 ? -1 : lines.findIndex((line, index) => index > open && /^\];?$/.test(line));
  if (close < 0) return { wired: false, reason: 'it has no `export const services … = [` array closed by `];` on its own line' };
  const last = lines.findLastIndex((line, index) => index > open && index < close && line.trim() !== '');
  if (last > 0 && !lines[last]!.trimEnd().endsWith(',')) lines[last] = `${lines[last]!.trimEnd()},`;
  const indent = (last > 0 && lines[last]!.match(/^\s*/)![0]) || '  ';
  lines.splice(close, 0, `${indent}${entry.identifier},`);
  const importLine = `import { service as ${entry.identifier} } from '${entry.packageName}/routes';`;
  const after = imports.at(-1) ?? lines.findLastIndex((line, index) => index < open && line.startsWith('import '));
  lines.splice(after + 1, 0, importLine);
  return { wired: true, source: lines.join('\n') };
}

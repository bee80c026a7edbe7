/** Which files of a service's models folder are model files: sources, tests and declarations excluded. */
import { globSync } from 'node:fs';
import { join } from 'node:path';
import type { Service } from '../config/services.ts';

const MODEL_FILES = '**/*.{ts,mts,js,mjs}';
const NOT_MODELS = /(\.d\.ts|\.(test|spec)\.[mc]?[jt]s)$/;

/** Absolute paths, sorted. Light on purpose: the Nx plugin lists them without loading the ORM. */
export function modelFiles(service: Service): string[] {
  return globSync(MODEL_FILES, { cwd: service.modelsDir })
    .filter((file) => !NOT_MODELS.test(file))
    .sort()
    .map((file) => join(service.modelsDir, file));
}

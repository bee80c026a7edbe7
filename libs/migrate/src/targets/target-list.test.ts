import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.ts';
import { parseTargetFile, resolveTargets } from './target-list.ts';

function workspace(config: unknown, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-targets-'));
  writeFileSync(join(dir, 'tributary.config.json'), JSON.stringify(config));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('--targets FILE|GROUP', () => {
  it('reads one URL per line, skipping comments and blank lines', () => {
    expect(parseTargetFile('# tenants\n\npostgres://a@h/one  # first\r\n  postgres://a@h/two\n#postgres://a@h/off\n')).toEqual(['postgres://a@h/one', 'postgres://a@h/two']);
  });

  it('resolves a file, then the file and urls groups of tributary.config.json', async () => {
    const dir = workspace({ targets: { a: { file: 'list.txt' }, b: { urls: ['postgres://x@h/b1'] } } }, { 'list.txt': 'postgres://x@h/a1\n', 'direct.txt': 'postgres://x@h/d1\n' });
    const config = loadConfig({ cwd: dir });
    expect(await resolveTargets('direct.txt', config, dir)).toEqual({ source: 'direct.txt', urls: ['postgres://x@h/d1'] });
    expect((await resolveTargets('a', config, dir)).urls).toEqual(['postgres://x@h/a1']);
    expect((await resolveTargets('b', config, dir)).urls).toEqual(['postgres://x@h/b1']);
  });

  it('names the mistake in one sentence, never showing a password', async () => {
    const dir = workspace(
      { targets: { bad: { url: 'postgres://u:hunter2@h/c' }, twice: { urls: ['postgres://u:hunter2@h/x', 'postgres://u:hunter2@h/x'] }, mysql: { urls: ['mysql://u:hunter2@h/x'] }, empty: { urls: [] } } },
    );
    const config = loadConfig({ cwd: dir });
    await expect(resolveTargets('nope', config, dir)).rejects.toThrow(/--targets nope is neither a file nor a group: no file nope, and the groups of tributary.config.json are bad, twice, mysql, empty/);
    await expect(resolveTargets('bad', config, dir)).rejects.toThrow(/targets.bad in tributary.config.json must be .*postgres:\/\/u:\*\*\*@h\/c/);
    await expect(resolveTargets('twice', config, dir)).rejects.toThrow('group twice of tributary.config.json lists postgres://u:***@h/x twice');
    await expect(resolveTargets('mysql', config, dir)).rejects.toThrow(/Target 1 of group mysql .* must be a PostgreSQL URL .*mysql:\/\/u:\*\*\*@h\/x/);
    await expect(resolveTargets('empty', config, dir)).rejects.toThrow('group empty of tributary.config.json lists no target databases.');
    for (const group of ['bad', 'twice', 'mysql']) await expect(resolveTargets(group, config, dir)).rejects.not.toThrow(/hunter2/);
  });
});

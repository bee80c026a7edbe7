import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checksumOf, readStream, strayFiles } from './stream.ts';

describe('reading the stream', () => {
  it('checksums the bytes with CRLF normalised, so any other edit (a comment too) changes it', () => {
    expect(checksumOf(Buffer.from('a\r\nb\n'))).toBe(checksumOf(Buffer.from('a\nb\n')));
    expect(checksumOf(Buffer.from('a\r\nb\n'))).toBe('911169ddaaf146aff539f58c26c489af3b892dff0fe283c1c264c65ae5aa59a2'); // sha256sum of "a\nb\n"
    expect(checksumOf(Buffer.from('a\nb\n// note\n'))).not.toBe(checksumOf(Buffer.from('a\nb\n')));
    expect(checksumOf(Buffer.from('x'))).toMatch(/^[0-9a-f]{64}$/);
  });

  it('lists contract-named files in name order and flags look-alikes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stream-'));
    for (const file of ['20260102_000000_billing_b.ts', '20260101_000000_auth-service_a.ts', 'notes.md', '2026_auth_bad.ts', 'Migration20260101000000.ts', 'project.json', 'types.d.ts']) writeFileSync(join(dir, file), file);
    mkdirSync(join(dir, 'helpers.ts'));
    expect(readStream(dir).map((e) => [e.name, e.service])).toEqual([
      ['20260101_000000_auth-service_a', 'auth-service'],
      ['20260102_000000_billing_b', 'billing'],
    ]);
    expect(strayFiles(dir)).toEqual(['2026_auth_bad.ts', 'Migration20260101000000.ts']);
  });
});

import { describe, expect, it } from 'vitest';
import type { StreamEntry } from '../stream/stream.ts';
import { squashName } from './squash.ts';

const entry = (name: string): StreamEntry => ({ name, service: name.split('_')[2]!, file: `/m/${name}.ts`, checksum: 'c' });

describe("a squash's name", () => {
  const stream = [entry('20260101_000000_auth_initial'), entry('20260102_000000_billing_initial'), entry('20260105_120000_auth_avatar'), entry('20260109_000000_auth_session_ip')];
  const mine = stream.filter((e) => e.service === 'auth');

  it("sorts right after the last migration it replaces, before the service's next one", () => {
    expect(squashName(stream, mine, mine[1]!, 'baseline')).toBe('20260105_120001_auth_baseline');
  });

  it("is the stream's next name when it replaces the service's newest migration", () => {
    expect(squashName(stream, mine, mine[2]!, 'baseline', new Date('2026-01-01T00:00:00Z'))).toBe('20260109_000001_auth_baseline');
  });

  it('is refused, naming both migrations, when the next one is in the same second', () => {
    const tight = [entry('20260101_000000_auth_initial'), entry('20260101_000001_auth_avatar')];
    expect(() => squashName(tight, tight, tight[0]!, 'baseline')).toThrow('No room for a squash between 20260101_000000_auth_initial and 20260101_000001_auth_avatar');
  });
});

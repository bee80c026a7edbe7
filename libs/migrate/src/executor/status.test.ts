import { describe, expect, it } from 'vitest';
import type { HistoryRow } from '../db/history.ts';
import type { StreamEntry } from '../stream/stream.ts';
import { compareStreamWithHistory } from './status.ts';

const entry = (name: string, checksum = 'c'): StreamEntry => ({ name, service: name.split('_')[2]!, file: `/m/${name}.ts`, checksum });
const row = (name: string, checksum = 'c', status: HistoryRow['status'] = 'applied'): HistoryRow => ({
  name, service: name.split('_')[2]!, checksum, appliedAt: new Date(0), executionMs: 1, appliedBy: 'me', status, error: null,
});

describe('stream vs history', () => {
  it('calls a pending migration out of order only when its own service has a later one applied', () => {
    const stream = [entry('20260101_000000_auth_a'), entry('20260102_000000_billing_b'), entry('20260103_000000_auth_c'), entry('20260104_000000_auth_d')];
    const status = compareStreamWithHistory(stream, [row('20260101_000000_auth_a'), row('20260104_000000_auth_d')]);
    expect(status.pending.map((e) => e.name)).toEqual(['20260102_000000_billing_b', '20260103_000000_auth_c']);
    // billing_b is older than auth_d, but auth and billing are independent services
    expect(status.outOfOrder.map((e) => e.name)).toEqual(['20260103_000000_auth_c']);
  });

  it('reports edited, missing and failed migrations, and never counts a failed one as applied', () => {
    const stream = [entry('20260101_000000_auth_a', 'new'), entry('20260102_000000_auth_b')];
    const status = compareStreamWithHistory(stream, [row('20260101_000000_auth_a', 'old'), row('20251231_000000_auth_gone'), row('20260102_000000_auth_b', 'c', 'failed')]);
    expect(status.mismatched.map((m) => m.entry.name)).toEqual(['20260101_000000_auth_a']);
    expect(status.missing.map((r) => r.name)).toEqual(['20251231_000000_auth_gone']);
    expect(status.failed.map((r) => r.name)).toEqual(['20260102_000000_auth_b']);
    expect(status.pending.map((e) => e.name)).toEqual(['20260102_000000_auth_b']);
    expect(status.migrations.map((m) => [m.name, m.problem])).toEqual([
      ['20251231_000000_auth_gone', 'missing-file'],
      ['20260101_000000_auth_a', 'checksum-mismatch'],
      ['20260102_000000_auth_b', 'failed'],
    ]);
  });

  describe('a squash (static replaces)', () => {
    const a = '20260101_000000_auth_a';
    const b = '20260102_000000_auth_b';
    const q = '20260102_000001_auth_squashed';
    const c = '20260103_000000_auth_c';
    const stream = () => [entry(a), entry(b), { ...entry(q), replaces: [a, b] }, entry(c)];
    const pending = (rows: HistoryRow[]) => {
      const status = compareStreamWithHistory(stream(), rows);
      return { pending: status.pending.map((e) => e.name), recordOnly: [...status.recordOnly], listed: status.migrations.map((m) => m.name), outOfOrder: status.outOfOrder.length };
    };

    it('a fresh database runs the squash instead of what it replaces', () => {
      expect(pending([])).toEqual({ pending: [q, c], recordOnly: [], listed: [q, c], outOfOrder: 0 });
    });

    it('with everything it replaces applied, the squash is recorded without running', () => {
      expect(pending([row(a), row(b), row(c)])).toEqual({ pending: [q], recordOnly: [q], listed: [a, b, q, c], outOfOrder: 0 });
    });

    it('with part of it applied, the rest runs and then the squash is recorded', () => {
      expect(pending([row(a)])).toEqual({ pending: [b, q, c], recordOnly: [q], listed: [a, b, q, c], outOfOrder: 0 });
    });

    it('once the squash is applied, the replaced migrations are neither pending nor missing when their files are deleted', () => {
      const status = compareStreamWithHistory([{ ...entry(q), replaces: [a, b] }, entry(c)], [row(a), row(b), row(q)]);
      expect(status.pending.map((e) => e.name)).toEqual([c]);
      expect(status.missing).toEqual([]);
    });
  });
});

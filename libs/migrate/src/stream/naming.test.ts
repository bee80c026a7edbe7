import { describe, expect, it } from 'vitest';
import { formatTimestamp, migrationName, parseFileName, slugify, TimestampAllocator } from './naming.ts';

describe('stream file names', () => {
  it('parses a service name that contains dashes', () => {
    expect(parseFileName('20261123_113328_auth-service_create_user.ts')).toEqual({
      name: '20261123_113328_auth-service_create_user',
      timestamp: '20261123_113328',
      service: 'auth-service',
      slug: 'create_user',
    });
  });

  it('ignores files that are not part of the stream', () => {
    for (const file of ['README.md', '2026_1_auth_x.ts', '20261123_113328_Auth_x.ts', '20261123_113328_auth.ts', '20261123_113328_auth_x.js']) {
      expect(parseFileName(file)).toBeUndefined();
    }
  });

  it('slugifies messages to lower snake case of at most 60 characters', () => {
    expect(slugify('Add email_verified!  (v2)', 'auto')).toBe('add_email_verified_v2');
    expect(slugify('É '.repeat(80), 'auto').length).toBeLessThanOrEqual(60);
    expect(slugify('Ajouter la catégorie « Prêt »', 'auto')).toBe('ajouter_la_categorie_pret');
    expect(slugify('   ', 'auto')).toBe('auto');
    expect(slugify(undefined, 'initial')).toBe('initial');
  });

  it('hands out distinct increasing timestamps after the newest file, even within one second', () => {
    const now = new Date(Date.UTC(2026, 10, 23, 11, 33, 28, 500));
    const allocator = new TimestampAllocator('20261123_113330', now);
    expect([allocator.take(), allocator.take(), allocator.take()]).toEqual(['20261123_113331', '20261123_113332', '20261123_113333']);
    expect(new TimestampAllocator(undefined, now).take()).toBe(formatTimestamp(now));
  });

  it('refuses names outside the contract', () => {
    expect(() => migrationName('20261123_113328', 'Auth', 'x')).toThrow(/not a valid migration name/);
    expect(migrationName('20261123_113328', 'auth-service', 'x')).toBe('20261123_113328_auth-service_x');
  });
});

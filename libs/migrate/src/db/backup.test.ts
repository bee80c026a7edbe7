import { describe, expect, it } from 'vitest';
import { pgDumpCommand, psqlRestoreCommand, withoutPassword } from './backup.ts';

describe('pg_dump and psql commands keep the password out of argv', () => {
  it('moves a URL password into PGPASSWORD', () => {
    const dump = pgDumpCommand('postgres://app:s3cr%40t@db.internal:5432/shop?sslmode=require');
    expect(dump.command).toBe('pg_dump');
    expect(dump.args).toEqual(['--dbname', 'postgres://app@db.internal:5432/shop?sslmode=require', '--no-owner', '--no-privileges']);
    expect(dump.env).toEqual({ PGPASSWORD: 's3cr@t' });
  });

  it('moves a password query parameter and a key/value password too', () => {
    expect(withoutPassword('postgresql://app@db/shop?password=hunter2&application_name=x')).toEqual({ dbname: 'postgresql://app@db/shop?application_name=x', password: 'hunter2' });
    expect(withoutPassword("host=db user=app password='with space\\'s' dbname=shop")).toEqual({ dbname: 'host=db user=app dbname=shop', password: "with space's" });
    expect(withoutPassword('host=db password=plain dbname=shop')).toEqual({ dbname: 'host=db dbname=shop', password: 'plain' });
  });

  it('adds nothing when there is no password', () => {
    expect(pgDumpCommand('postgres://postgres@127.0.0.1:5432/app').env).toEqual({});
    expect(withoutPassword('host=db dbname=shop')).toEqual({ dbname: 'host=db dbname=shop' });
  });

  it('psql gets the same treatment, with the wipe and the file', () => {
    const restore = psqlRestoreCommand('postgres://app:pw@127.0.0.1/shop', 'drop schema "public" cascade;', '/b/1.sql');
    expect(restore.args.join(' ')).not.toContain('pw@');
    expect(restore.args).toEqual(['--dbname', 'postgres://app@127.0.0.1/shop', '--no-psqlrc', '--quiet', '--single-transaction', '-v', 'ON_ERROR_STOP=1', '-c', 'drop schema "public" cascade;', '-f', '/b/1.sql']);
    expect(restore.env).toEqual({ PGPASSWORD: 'pw' });
  });
});

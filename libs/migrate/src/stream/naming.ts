/**
 * The stream's file-name contract: `<YYYYMMDD>_<HHMMSS>_<service>_<slug>.ts`, UTC, ordered by
 * name. Several files made in one second get distinct, increasing timestamps.
 */
import { TributaryError } from '../errors.ts';

export const MIGRATION_FILE = /^(\d{8})_(\d{6})_([a-z0-9][a-z0-9-]*)_([a-z0-9_]+)\.ts$/;
const SLUG_MAX = 60;

export interface ParsedName {
  name: string;
  timestamp: string;
  service: string;
  slug: string;
}

/** Parses a file name of the stream; returns undefined for files that are not migrations. */
export function parseFileName(file: string): ParsedName | undefined {
  const match = MIGRATION_FILE.exec(file);
  if (!match) return undefined;
  const name = file.slice(0, -3);
  const timestamp = `${match[1]}_${match[2]}`;
  // The service may itself contain dashes but never underscores, so the first underscore after
  // the timestamp ends it: `20261123_113328_auth-service_create_user` → auth-service.
  const rest = name.slice(timestamp.length + 1);
  const cut = rest.indexOf('_');
  return { name, timestamp, service: rest.slice(0, cut), slug: rest.slice(cut + 1) };
}

export function slugify(message: string | undefined, fallback: string): string {
  const slug = (message ?? '')
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '') // "é" decomposes to "e" + an accent: keep the letter, drop the accent
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, SLUG_MAX)
    .replace(/_+$/, '');
  return slug || fallback;
}

export function formatTimestamp(date: Date): string {
  const iso = date.toISOString(); // 2026-11-23T11:33:28.123Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}_${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}

export function parseTimestamp(timestamp: string): Date {
  const d = timestamp;
  return new Date(Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8), +d.slice(9, 11), +d.slice(11, 13), +d.slice(13, 15)));
}

/**
 * Hands out timestamps for new files: now, but always later than the newest file already in
 * the stream and strictly increasing within one run, so new files sort after everything.
 */
export class TimestampAllocator {
  #next: number;

  constructor(latestExisting: string | undefined, now = new Date()) {
    const floor = latestExisting ? parseTimestamp(latestExisting).getTime() + 1000 : 0;
    this.#next = Math.max(Math.floor(now.getTime() / 1000) * 1000, floor);
  }

  take(): string {
    const stamp = formatTimestamp(new Date(this.#next));
    this.#next += 1000;
    return stamp;
  }
}

export function migrationName(timestamp: string, service: string, slug: string): string {
  const name = `${timestamp}_${service}_${slug}`;
  if (!MIGRATION_FILE.test(`${name}.ts`)) throw new TributaryError(`"${name}" is not a valid migration name.`);
  return name;
}

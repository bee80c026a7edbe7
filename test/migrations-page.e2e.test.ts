/**
 * Pictures where people would rather look (issue 14): `migrate graph` draws the services and the
 * cross-service dependsOn edges as Mermaid, DOT or HTML, marking pending work when a database is
 * reachable; the gateway serves the same picture and the status table at `GET /migrations`
 * (not in production unless MIGRATIONS_PAGE=true), checked in a real headless Chromium whose
 * screenshot is kept in .data/screenshots/.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { listening, serveGateway, stop } from './support/gateway.ts';
import { REPO } from './support/workspace.ts';
import { workspaceWithDatabase } from './support/fixture.ts';

const { ws, env } = workspaceWithDatabase();

describe('migrate graph', () => {
  it('draws billing → auth and marks pending work, as Mermaid, DOT and HTML', async () => {
    const pending = await ws.migrateOk(['graph'], env);
    expect(pending.stdout).toContain('graph LR');
    expect(pending.stdout).toContain('billing_service -->|1 dependsOn| auth_service');
    expect(pending.stdout).toContain('auth_service["auth-service<br/>1 of 1 migration pending"]:::pending');
    expect(pending.stdout).not.toContain('catalog_service -->');

    expect((await ws.migrate(['migrate'], env)).code).toBe(0);
    const applied = await ws.migrate(['graph'], env);
    expect(applied.stdout).toContain('auth_service["auth-service<br/>1 migration, all applied"]');
    expect(applied.stdout).not.toContain(':::pending');

    const dot = await ws.migrate(['graph', '--format', 'dot'], env);
    expect(dot.stdout).toContain('"billing-service" -> "auth-service" [label="1 dependsOn"];');
    const html = await ws.migrate(['graph', '--format', 'html'], env);
    expect(html.stdout).toMatch(/^<!doctype html>/);
    expect(html.stdout).toContain('<g class="edge" data-from="billing-service" data-to="auth-service">');
  });

  it('without a reachable database still draws, and says pending work is not marked', async () => {
    const result = await ws.migrate(['graph'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('billing_service -->|1 dependsOn| auth_service');
    expect(result.stderr).toContain('pending migrations not marked');
  });

  it('refuses an unknown format, naming the choices', async () => {
    const result = await ws.migrate(['graph', '--format', 'png'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("option '--format <format>' argument 'png' is invalid. Allowed choices are mermaid, dot, html.");
  });
});

const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));
const browse = (args: string[]) => promisify(execFile)(chromium!, ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', ...args], { maxBuffer: 1 << 24, timeout: 120_000 });

describe('GET /migrations', () => {
  it('serves the status table and the graph, seen in a headless Chromium', async () => {
    // the committed stream applied and one pending migration, so the page has both states to show
    expect((await ws.migrate(['migrate'], env)).code).toBe(0);
    ws.write('migrations/20300101_000000_catalog-service_add_rank.ts', `import { Migration } from '@mikro-orm/migrations';
export class AddRank extends Migration {
  static service = 'catalog-service';
  override up() { this.addSql('alter table "category" add column "rank" int null'); }
  override down() { this.addSql('alter table "category" drop column "rank"'); }
}
`);
    const gateway = serveGateway(ws, env);
    try {
      const base = await listening(gateway);
      const response = await fetch(`${base}/migrations`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/html');
      const html = await response.text();
      expect(html).toContain('3 applied, 1 pending, 4 total');
      expect(html).toMatch(/<tr class="pending"><td><span class="badge">pending<\/span><\/td><td>catalog-service<\/td><td><code>20300101_000000_catalog-service_add_rank<\/code>/);

      expect(chromium, 'Chromium is needed for this test (apt-get install -y chromium)').toBeDefined();
      const { stdout: dom } = await browse(['--dump-dom', `${base}/migrations`]);
      expect(dom).toContain('<g class="service pending" data-service="catalog-service">');
      expect(dom).toContain('<g class="edge" data-from="billing-service" data-to="auth-service">');
      const shot = join(ws.dir, 'migrations-page.png');
      await browse([`--screenshot=${shot}`, '--window-size=1100,760', `${base}/migrations`]);
      const png = readFileSync(shot);
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect(png.length).toBeGreaterThan(10_000); // a rendered page, not a blank one
      mkdirSync(join(REPO, '.data/screenshots'), { recursive: true });
      copyFileSync(shot, join(REPO, '.data/screenshots/migrations-page.png'));
      console.log(`screenshot of /migrations: ${join(REPO, '.data/screenshots/migrations-page.png')} (${png.length} bytes)`);
    } finally {
      await stop(gateway);
      ws.remove('migrations/20300101_000000_catalog-service_add_rank.ts');
    }
  });

  it('is off when NODE_ENV=production, unless MIGRATIONS_PAGE=true', async () => {
    const production = serveGateway(ws, { ...env, NODE_ENV: 'production' });
    try {
      expect((await fetch(`${await listening(production)}/migrations`)).status).toBe(404);
    } finally {
      await stop(production);
    }
    const asked = serveGateway(ws, { ...env, NODE_ENV: 'production', MIGRATIONS_PAGE: 'true' });
    try {
      expect((await fetch(`${await listening(asked)}/migrations`)).status).toBe(200);
    } finally {
      await stop(asked);
    }
  });
});

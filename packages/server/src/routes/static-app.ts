// /app/*: the built SMART agent app (packages/smart-app/dist) and its launch configuration (issue #4).
// The app may be framed only by the tenants' EHRs: `frame-ancestors` lists the origins of the registered
// source base URLs plus configured extras (SAL-04 allow-list, SAL-82 script lock-down).
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Database, schema } from '@fhirdesk/core';
import { isNotNull } from 'drizzle-orm';
import { Hono } from 'hono';
import type { AppEnv } from '../http/env';

export interface StaticAppDeps {
  database: Database;
  /** Built app folder; default packages/smart-app/dist. */
  distDir?: string;
  /** EHR origins allowed to frame the app besides the source base URL origins. */
  extraFrameAncestors?: string[];
}

export interface AppIssuer {
  iss: string;
  clientId: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
};

const defaultDist = resolve(dirname(fileURLToPath(import.meta.url)), '../../../smart-app/dist');

/** Registered SMART issuers with their client ids (settings.smartClientId or auth.clientId). */
export async function appIssuers(database: Database): Promise<AppIssuer[]> {
  const rows = await database.db
    .select({
      baseUrl: schema.source.baseUrl,
      auth: schema.source.auth,
      settings: schema.source.settings,
      enabled: schema.source.enabled,
    })
    .from(schema.source)
    .where(isNotNull(schema.source.baseUrl));
  const out: AppIssuer[] = [];
  for (const row of rows) {
    const clientId = row.settings.smartClientId ?? row.auth.clientId;
    if (!row.enabled || !row.baseUrl || typeof clientId !== 'string') continue;
    out.push({ iss: row.baseUrl.replace(/\/+$/, ''), clientId });
  }
  return out;
}

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

export function staticAppRoutes(deps: StaticAppDeps) {
  const dist = deps.distDir ?? defaultDist;
  const app = new Hono<AppEnv>();

  const policy = async (): Promise<string> => {
    const origins = new Set<string>();
    for (const issuer of await appIssuers(deps.database)) {
      const origin = originOf(issuer.iss);
      if (origin) origins.add(origin);
    }
    for (const extra of deps.extraFrameAncestors ?? []) origins.add(extra);
    const list = [...origins].join(' ');
    return [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      `connect-src 'self' ${list}`.trim(),
      `frame-ancestors 'self' ${list}`.trim(),
      "base-uri 'none'",
      "object-src 'none'",
      "form-action 'self'",
    ].join('; ');
  };

  // SAL-04: the browser checks `iss` against this list before any discovery or redirect.
  app.get('/config.json', async (c) => {
    c.header('Cache-Control', 'no-store');
    const issuers = await appIssuers(deps.database);
    return c.json({ issuers });
  });

  app.get('/*', async (c) => {
    const rel = c.req.path.replace(/^\/app\/?/, '') || 'index.html';
    const file = normalize(join(dist, rel));
    if (!file.startsWith(dist)) return c.text('Not found', 404);
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      return c.text('Not found', 404);
    }
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    const headers: Record<string, string> = { 'Content-Type': type, 'Cache-Control': 'no-cache' };
    if (type.startsWith('text/html')) {
      headers['Content-Security-Policy'] = await policy();
      headers['Cache-Control'] = 'no-store';
    }
    return new Response(new Uint8Array(body), { headers });
  });

  return app;
}

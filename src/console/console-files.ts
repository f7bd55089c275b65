import { Injectable } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `vite build` writes the app (see console/vite.config.ts): `dist/console`. */
export const CONSOLE_DIST = fileURLToPath(new URL('../../console/', import.meta.url));

/**
 * Scripts and styles only from this origin, no inline script. Mantine sets inline style
 * attributes and one `<style>` element for its CSS variables, hence `'unsafe-inline'` for styles
 * only.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
};

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Console not built · Gatehouse</title></head><body><main><h1>The console is not built</h1><p>Run <code>npm run build</code> (or <code>npm start</code>), then reload.</p></main></body></html>`;

/** The built app's files: index.html (never cached) and the hashed assets (cached for a year). */
@Injectable()
export class ConsoleFiles {
  private index: Buffer | null = null;

  sendIndex(res: FastifyReply): void {
    const index = this.readIndex();
    res.headers({
      'Content-Security-Policy': CONSOLE_CSP,
      'Cache-Control': 'no-store',
      'Content-Type': 'text/html; charset=utf-8',
    });
    if (!index) {
      res.status(503).send(NOT_BUILT);
      return;
    }
    res.status(200).send(index);
  }

  sendAsset(res: FastifyReply, name: string): void {
    const root = join(CONSOLE_DIST, 'assets');
    const file = normalize(join(root, name));
    const type = TYPES[extname(file)];
    if (
      !file.startsWith(root + sep) ||
      type === undefined ||
      !existsSync(file) ||
      !statSync(file).isFile()
    ) {
      res
        .status(404)
        .headers({ 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' })
        .send(
          '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not found · Gatehouse</title></head><body><main><h1>Not found</h1></main></body></html>',
        );
      return;
    }
    res
      .status(200)
      .headers({
        'Content-Type': type,
        'Cache-Control': 'public, max-age=31536000, immutable',
        'Content-Security-Policy': CONSOLE_CSP,
      })
      .send(readFileSync(file));
  }

  private readIndex(): Buffer | null {
    // Read once when present (a rebuild needs a restart, as for the server code).
    if (this.index) return this.index;
    const path = join(CONSOLE_DIST, 'index.html');
    if (!existsSync(path)) return null;
    this.index = readFileSync(path);
    return this.index;
  }
}

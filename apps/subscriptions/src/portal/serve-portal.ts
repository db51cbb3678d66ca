import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ConfigService } from '@nestjs/config';
import type { NextFunction, Request, Response } from 'express';
import { PROBLEM_CONTENT_TYPE, problemDocument } from '@hookhub/platform';
import type { SubscriptionsConfig } from '../subscriptions.config';

/** Where `npm run build` puts the portal (Vite, apps/portal): beside the bundled apps, or under the working directory's dist/. */
export function portalDirectory(): string | undefined {
  const candidates = [join(__dirname, '..', '..', 'portal'), resolve(process.cwd(), 'dist', 'portal')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html')));
}

/**
 * The portal's Content-Security-Policy: everything from this origin only,
 * nothing inline (no inline scripts or styles, no eval), the API called on
 * this origin only, and framing only by the configured ancestors.
 */
export function portalCsp(frameAncestors: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${frameAncestors}`,
  ].join('; ');
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};
/** Asset names Vite writes (`index-<hash>.js`): nothing else under /portal/assets is looked up on disk. */
const ASSET = /^\/assets\/([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*(\.[a-z0-9]+))$/;

/**
 * Serves the built portal at /portal: index.html at /portal and /portal/,
 * its hashed assets at /portal/assets/<name>, each with the portal's
 * security headers. Routes inside the portal are in the URL's fragment
 * (`#/subscriptions/…`), so there is no catch-all: any other path under
 * /portal goes on to the API's 404 problem.
 */
export function servePortal(app: NestExpressApplication): void {
  const config = app.get<ConfigService<SubscriptionsConfig, true>>(ConfigService);
  const csp = portalCsp(config.get('PORTAL_FRAME_ANCESTORS', { infer: true }));
  const dir = portalDirectory();
  const secure = (res: Response) => {
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
  };
  app.use('/portal', (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const path = req.path;
    let file: string | undefined;
    let type = 'text/html; charset=utf-8';
    let cache = 'no-cache';
    if (path === '/' || path === '') {
      file = 'index.html';
    } else {
      const asset = ASSET.exec(path);
      if (!asset || !TYPES[asset[2]]) return next();
      file = join('assets', asset[1]);
      type = TYPES[asset[2]];
      // Hashed names: a changed file has a new name.
      cache = 'public, max-age=31536000, immutable';
    }
    if (!dir) {
      const problem = problemDocument(404, 'The portal is not built: `npm run build` builds it into dist/portal', { instance: req.originalUrl.split('?')[0] });
      res.status(404).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
      return;
    }
    readFile(join(dir, file)).then(
      (body) => {
        secure(res);
        res
          .status(200)
          .setHeader('Content-Type', type)
          .setHeader('Cache-Control', cache)
          .end(req.method === 'HEAD' ? undefined : body);
      },
      () => next(),
    );
  });
}

import { BadRequestException } from '@nestjs/common';
import { ProblemFilter } from '#src/common/errors/problem.filter.js';
import fastifyCookie from '@fastify/cookie';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import helmet from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger as Pino } from 'pino';
import { createAccessLog } from '#src/common/logging.js';
import { createValidationPipe } from '#src/common/validation.js';
import { HotReads, hotReadOf } from '#src/common/http/hot-read.js';
import {
  contextOf,
  openRequestContext,
  routeHasContext,
  runHandlerInContext,
  runInContext,
} from '#src/common/request-context.js';
import type { AppConfig } from '#src/config/config.js';

export const API_PREFIX = 'api/v1';
/** Every request body (JSON, SCIM JSON, form) is refused past this with a 413. */
export const BODY_LIMIT_BYTES = 100 * 1024;

/** The caller's `X-Request-Id` when it is a plain token of up to 64 characters, else a new UUID. */
function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && /^[\w-]{1,64}$/.test(incoming) ? incoming : randomUUID();
}

/** The access log line: no query string (mailed links carry tokens there), no headers. */
function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  return path.length > 512 ? `${path.slice(0, 512)}…` : path;
}

/** TRUST_PROXY as Fastify takes it: a hop count becomes "trust the nearest N hops". */
function trustProxyOption(
  setting: AppConfig['trustProxy'],
): boolean | string | ((address: string, hop: number) => boolean) {
  if (typeof setting === 'number') return (_address, hop) => hop < setting;
  return setting;
}

/** The security headers of the two kinds of answer (see `securityHeadersFor`). */
export interface SecurityHeaders {
  /** Pages and anything a browser may render as one: helmet's defaults, with the pages' CSP. */
  document: Record<string, string>;
  /** Machine formats only: OWASP's REST set, no caching, nothing that only a document reads. */
  api: Record<string, string>;
}

/** The headers helmet sets with `options`, as a plain record (lower-case names). */
function helmetHeaders(options: Parameters<typeof helmet>[0]): Record<string, string> {
  const headers: Record<string, string> = {};
  const collector = {
    setHeader(name: string, value: unknown): void {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader(): void {},
  };
  helmet(options)(
    {} as IncomingMessage,
    collector as unknown as ServerResponse,
    (err?: unknown) => {
      if (err !== undefined) {
        throw err instanceof Error ? err : new Error('helmet refused the security header settings');
      }
    },
  );
  return headers;
}

/**
 * The security headers of every response, worked out once with helmet itself: none of them depends
 * on the request, and `@fastify/helmet` would rebuild helmet's middleware for every request (about
 * 5% of a cheap request's CPU).
 *
 * - Documents get helmet's defaults, with the pages' script, image and form rules in the CSP.
 * - API answers get the set of OWASP's REST Security Cheat Sheet: a CSP that allows nothing and no
 *   framing (stricter than the pages': a JSON answer opened in a tab runs nothing),
 *   `X-Frame-Options: DENY`, `nosniff`, HSTS, `Cross-Origin-Resource-Policy` and
 *   `Cache-Control: no-store` (a route that may be cached, the JWKS, says so itself). They leave
 *   out what only a document reads (referrer, DNS prefetch, opener and agent-cluster policies) and
 *   the headers of IE and Flash: six headers fewer on every API answer, the hot path's cheapest
 *   saving (docs/performance.md).
 */
export function securityHeaders(): SecurityHeaders {
  const document = helmetHeaders({
    contentSecurityPolicy: {
      directives: {
        'script-src': ["'self'", "'unsafe-inline'"],
        'img-src': ["'self'", 'data:'],
        'form-action': ["'self'", 'http:', 'https:'],
      },
    },
  });
  const api = helmetHeaders({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { 'default-src': ["'none'"], 'frame-ancestors': ["'none'"] },
    },
    crossOriginOpenerPolicy: false,
    originAgentCluster: false,
    referrerPolicy: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xFrameOptions: { action: 'deny' },
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  });
  api['cache-control'] = 'no-store';
  return { document, api };
}

/**
 * Paths that answer only in machine formats (the versioned REST API, SCIM, health, metrics, the
 * well-known documents): never a page. Every other path may answer a document: the pages, the
 * console, the API's docs (`/api/docs`), the OpenID Provider (its form_post and error pages) and
 * unknown addresses (an HTML 404). Narrower than `isMachinePath` (common/http/html.ts), which says
 * in which format an error is answered: `/api/docs` and `/oidc` answer errors in machine formats
 * but also serve pages.
 */
const API_PATHS = /^\/(?:api\/v\d+|scim|health|metrics|\.well-known)(?:[/?]|$)/;

/** The security headers for a request's URL (path and query as sent). */
export function securityHeadersFor(headers: SecurityHeaders, url: string): Record<string, string> {
  return API_PATHS.test(url) ? headers.api : headers.document;
}

/**
 * The HTTP adapter every Gatehouse process uses: Fastify with the proxy trust, request ids and body
 * limit of the settings. Fastify's own logger stays off (the access log below is one line per
 * request, like every other line of ours); routes match with or without a trailing slash, and a
 * path parameter may be as long as the longest token Gatehouse mails (Fastify's default is 100).
 */
export function createHttpAdapter(config: Pick<AppConfig, 'trustProxy'>): FastifyAdapter {
  return new FastifyAdapter({
    trustProxy: trustProxyOption(config.trustProxy),
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: (req: IncomingMessage) => requestIdOf(req),
    logger: false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048 },
    // "__proto__" and "constructor" keys are kept as plain own keys (JSON.parse does not pollute
    // prototypes) so that the input guard refuses them naming the field, as it does in forms.
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
    // A URL the router cannot read (a bad percent-encoding) is refused before any hook: answered in
    // the same shapes as every other error, not Fastify's own JSON.
    frameworkErrors: (error: Error, req: FastifyRequest, reply: FastifyReply) => {
      new ProblemFilter().answer(new BadRequestException(error.message), req, reply);
    },
  });
}

const hotReadsOfApp = new WeakMap<object, HotReads>();

/** `METHOD path` of every route an application serves as a hot read (HEAD ones included). */
export function hotReadRoutes(app: NestFastifyApplication): readonly string[] {
  return hotReadsOfApp.get(app)?.routes() ?? [];
}

/**
 * The HTTP settings every Gatehouse process uses (request ids, the access log, helmet, cookies,
 * body parsers, validation), as Fastify hooks and plugins. Shared with the benchmark's hello-world
 * app so the framework ceiling is measured with the same adapter and plugins.
 */
export async function configureHttp(
  app: NestFastifyApplication,
  config: AppConfig,
  log: Pino,
): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  const security = securityHeaders();
  const access = createAccessLog(log);
  // Errors before the handler (a body too large, bad JSON) are logged with the id too.
  const openContext = (req: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    runInContext(openRequestContext(req, req.id, reply.raw), done);
  };
  // The id travels on the request (for the problem filter's correlation id) and the response.
  fastify.addHook('onRequest', (req, reply, done) => {
    req.headers['x-request-id'] = req.id;
    void reply.headers(securityHeadersFor(security, req.url)).header('X-Request-Id', req.id);
    // A route opens its request's context in its own hook (onRoute, below), so that no request
    // builds Fastify's `routeOptions` to learn whether it needs one; a request no route matched
    // opens it here.
    if (req.is404) openContext(req, reply, done);
    else done();
  });
  // The body was read in another async context: everything the handler causes (warnings, audit
  // entries) knows the request's id from here on.
  fastify.addHook('preHandler', (req, _reply, done) => {
    const context = contextOf(req);
    if (context) runInContext(context, done);
    else done();
  });
  // A hot read's handler is Gatehouse's own (src/common/http/hot-read.ts): the same guards, pipes
  // and filters as Nest's router would run, without its per-request pipeline. A route served in a
  // context opens it first of its own hooks, and its handler holds it until it has finished (see
  // runHandlerInContext).
  const hotReads = new HotReads(app);
  hotReadsOfApp.set(app, hotReads);
  fastify.addHook('onRoute', (route) => {
    const hot = hotReadOf(route.config);
    if (hot) {
      const methods = Array.isArray(route.method) ? route.method.join(',') : route.method;
      route.handler = hotReads.handlerFor(hot, methods, route.url);
      return;
    }
    if (!routeHasContext(route.config)) return;
    const existing = route.onRequest ?? [];
    route.onRequest = [openContext, ...(Array.isArray(existing) ? existing : [existing])];
    const handler = route.handler;
    route.handler = function (this: FastifyInstance, req, reply) {
      const context = contextOf(req);
      return context
        ? runHandlerInContext(context, () => handler.call(this, req, reply))
        : handler.call(this, req, reply);
    };
  });
  // One line per request when its response is finished (or the client went away).
  fastify.addHook('onResponse', (req: FastifyRequest, reply: FastifyReply, done) => {
    access({
      reqId: req.id,
      method: req.method,
      path: pathOf(req.url),
      ip: req.ip,
      status: reply.statusCode,
      responseTime: Math.round(reply.elapsedTime),
    });
    done();
  });
  await app.register(fastifyCookie);
  // SCIM clients send application/scim+json (RFC 7644 §3.1): read as JSON, same limit.
  fastify.addContentTypeParser(
    'application/scim+json',
    { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES },
    fastify.getDefaultJsonParser('ignore', 'ignore'),
  );
  // A body of a type Gatehouse does not read (text, multipart, anything not JSON or a form) is
  // drained and left undefined rather than refused with a 415 before any guard: the guards (the
  // cross-site form check) and the DTO validation judge such a request, and name what is missing.
  fastify.removeContentTypeParser(['text/plain']);
  fastify.addContentTypeParser('*', (_req, payload, done) => {
    payload.on('error', done);
    payload.on('end', () => done(null, undefined));
    payload.resume();
  });
  app.useGlobalPipes(createValidationPipe());
}

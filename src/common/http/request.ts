import type { FastifyRequest } from 'fastify';

/** The request's path, without the query string. */
export function requestPath(req: FastifyRequest): string {
  const url = req.url;
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** True when the body was sent as `application/json` (parameters such as charset aside). */
export function sentAsJson(req: FastifyRequest): boolean {
  const type = req.headers['content-type'];
  if (typeof type !== 'string') return false;
  const semi = type.indexOf(';');
  return (semi < 0 ? type : type.slice(0, semi)).trim().toLowerCase() === 'application/json';
}

/** The parsed query string (Fastify types it as unknown until a route declares a schema). */
export function queryOf(req: FastifyRequest): Record<string, unknown> {
  return (req.query ?? {}) as Record<string, unknown>;
}

/** The route's path parameters. */
export function paramsOf(req: FastifyRequest): Record<string, string | undefined> {
  return (req.params ?? {}) as Record<string, string | undefined>;
}

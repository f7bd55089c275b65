import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The raw request and response for the provider, which answers on them itself (Koa, or a redirect
 * back to the client): Fastify stops managing the reply; what the hooks and the route set on it so
 * far (security headers, the request id) goes to the raw response, which a hijacked reply never
 * writes; the body Fastify parsed goes on the raw request, where the provider looks for it.
 */
export function handOver(
  req: FastifyRequest,
  reply: FastifyReply,
): [IncomingMessage & { body?: unknown }, ServerResponse] {
  reply.hijack();
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) reply.raw.setHeader(name, value);
  }
  const raw: IncomingMessage & { body?: unknown } = req.raw;
  raw.body = req.body;
  return [raw, reply.raw];
}

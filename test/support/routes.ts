import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { MetadataScanner, ModulesContainer } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants.js';
import { hotReadOf } from '#src/common/http/hot-read.js';
import { SIGNIN_LIMIT_METADATA } from '#src/common/http/throttle.js';
import { AUTH_METADATA, type AuthRequirement } from '#src/kernel/auth.decorators.js';

export interface RouteInfo {
  method: string;
  /** The path as the HTTP server matches it, e.g. `/api/v1/users/:id/sessions`. */
  path: string;
  handler: string;
  requirement: AuthRequirement | undefined;
  signInLimit: boolean;
  /** Served by its own Fastify handler (`@HotRead()`), not Nest's router pipeline. */
  hotRead: boolean;
}

type Fn = (...args: unknown[]) => unknown;

function paths(meta: unknown): string[] {
  if (meta === undefined) return [''];
  return Array.isArray(meta) ? (meta as string[]) : [meta as string];
}

function join(...parts: string[]): string {
  const p = `/${parts
    .map((s) => s.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/')}`;
  return p;
}

const served = new WeakMap<object, { method: string; path: string }[]>();

/**
 * Records every route Fastify registers for the app (call before `app.init()`): Fastify keeps no
 * list to read back, its onRoute hook is the way to know what the router serves.
 */
export function recordRoutes(app: NestFastifyApplication): void {
  const list: { method: string; path: string }[] = [];
  served.set(app, list);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      // A route bound to every verb is a catch-all (the provider's /oidc/*), listed once per verb.
      for (const m of methods) list.push({ method: m.toUpperCase(), path: route.url });
    });
}

/** Routes the Fastify router really serves (method + path), one entry per method, HEAD aside. */
export function routerRoutes(app: NestFastifyApplication): { method: string; path: string }[] {
  const list = served.get(app);
  if (!list) throw new Error('recordRoutes(app) was not called before app.init()');
  // Fastify answers HEAD for every GET route by itself.
  return list.filter((r) => r.method !== 'HEAD');
}

/** Nest's `*name` wildcard is Fastify's `*`. */
const fastifyPath = (path: string): string => path.replace(/\*\w+$/, '*');

/**
 * Every controller route Nest registered, with its declared requirement, resolved to the path the
 * server serves (with or without the global prefix, as the router has it).
 */
export function nestRoutes(app: NestFastifyApplication): RouteInfo[] {
  const servedRoutes = routerRoutes(app);
  const scanner = new MetadataScanner();
  const out: RouteInfo[] = [];
  for (const mod of app.get(ModulesContainer).values()) {
    for (const wrapper of mod.controllers.values()) {
      const ctrl = wrapper.metatype as (new (...a: never[]) => object) | null;
      if (!ctrl) continue;
      const proto = ctrl.prototype as Record<string, Fn>;
      for (const name of scanner.getAllMethodNames(proto)) {
        const fn = proto[name];
        if (!fn) continue;
        const methodMeta = Reflect.getMetadata(METHOD_METADATA, fn) as RequestMethod | undefined;
        if (methodMeta === undefined) continue;
        const method = RequestMethod[methodMeta];
        const requirement =
          (Reflect.getMetadata(AUTH_METADATA, fn) as AuthRequirement | undefined) ??
          (Reflect.getMetadata(AUTH_METADATA, ctrl) as AuthRequirement | undefined);
        for (const base of paths(Reflect.getMetadata(PATH_METADATA, ctrl)))
          for (const sub of paths(Reflect.getMetadata(PATH_METADATA, fn))) {
            const bare = join(base, sub);
            const candidates = [join('api/v1', bare), bare];
            const path =
              candidates.find((c) =>
                servedRoutes.some((s) => s.method === method && s.path === fastifyPath(c)),
              ) ?? `?${bare}`;
            out.push({
              method,
              path,
              handler: `${ctrl.name}.${name}`,
              requirement,
              signInLimit: Reflect.getMetadata(SIGNIN_LIMIT_METADATA, fn) === true,
              hotRead:
                hotReadOf(
                  Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, fn) as Parameters<
                    typeof hotReadOf
                  >[0],
                ) !== undefined,
            });
          }
      }
    }
  }
  return out.sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}

/** One readable line per route: what a reviewer diffs as a permission change. */
export function describeRoute(r: RouteInfo): string {
  const req = r.requirement;
  let decl: string;
  if (!req) decl = 'UNDECLARED';
  else if (req.public && req.ownBearer) decl = `Public +own-bearer=${req.ownBearer}`;
  else if (req.public) decl = req.setsSessionCookie ? 'Public +sets-session-cookie' : 'Public';
  else {
    const parts = ['Authenticated'];
    if (req.permission) parts.push(`permission=${req.permission}`);
    if (req.self) parts.push(`self=${req.self}`);
    if (req.credentials) parts.push(`credentials=${req.credentials.join(',')}`);
    const res = req.resource;
    if (res?.kind === 'visible') parts.push(`lists=visible-${res.of}`);
    else if (res) {
      const where = { param: ':', query: '?', body: 'body.' }[res.in];
      parts.push(`${res.kind}(${where}${res.name})=${res.need}`);
    }
    decl = parts.join(' ');
  }
  const extras = `${r.signInLimit ? ' +signin-rate-limit' : ''}${r.hotRead ? ' +hot-read' : ''}`;
  return `${r.method.padEnd(6)} ${r.path.padEnd(48)} ${decl}${extras}`;
}

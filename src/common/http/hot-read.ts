import {
  ForbiddenException,
  RequestMethod,
  type ArgumentMetadata,
  type INestApplication,
  type PipeTransform,
  type Type,
} from '@nestjs/common';
import {
  CUSTOM_ROUTE_ARGS_METADATA,
  HEADERS_METADATA,
  HTTP_CODE_METADATA,
  METHOD_METADATA,
  PARAMTYPES_METADATA,
  REDIRECT_METADATA,
  RENDER_METADATA,
  ROUTE_ARGS_METADATA,
  SSE_METADATA,
} from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import type { NestContainer } from '@nestjs/core/injector/container.js';
import { GuardsContextCreator } from '@nestjs/core/guards/guards-context-creator.js';
import { FORBIDDEN_MESSAGE } from '@nestjs/core/guards/constants.js';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { InterceptorsContextCreator } from '@nestjs/core/interceptors/interceptors-context-creator.js';
import { ParamsTokenFactory } from '@nestjs/core/pipes/params-token-factory.js';
import { PipesContextCreator } from '@nestjs/core/pipes/pipes-context-creator.js';
import { RouteParamsFactory } from '@nestjs/core/router/route-params-factory.js';
import type { RouterProxyCallback } from '@nestjs/core/router/router-proxy.js';
import { RouterExceptionFilters } from '@nestjs/core/router/router-exception-filters.js';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isObservable, lastValueFrom } from 'rxjs';

/**
 * Hot reads: the few GET routes services call thousands of times a second to learn who a
 * credential is and what it may do (`GET /users/me`, `GET /auth/whoami`,
 * `GET /projects/:id/permissions`).
 *
 * Such a route is declared, documented and guarded like any other controller route: Nest registers
 * it, and the guards, pipes and exception filters that apply to it are the ones Nest works out for
 * it (global, controller and method ones), resolved once by Nest's own context creators when the
 * route is registered. What changes is who runs them on each request. Nest's router pipeline wraps
 * every request in a dozen promises and checks for streams, SSE, interceptors and redirects; on a
 * cached read it costs about as many instructions as Gatehouse's own work (measured on 2026-12-04:
 * the benchmark's hello route, with Gatehouse's HTTP settings, 139k instructions a request through
 * Nest's router, 97k with its handler called straight from Fastify). A hot read's handler runs the
 * same enhancers in the same order, synchronously where they answer synchronously, and sends its
 * result through Fastify's reply (and so through the route's response schema).
 *
 * What the shortcut cannot run, it refuses when the route is registered (so at start-up, never on
 * a request): interceptors, `@Res()`/`@Next()`, `@Header()`, `@Redirect()`, `@Render()`, `@Sse()`,
 * request-scoped controllers, and any method but GET. The route-declaration snapshot marks each hot
 * read (test/route-declarations.snapshot.txt), and test/http/hot-read.test.ts holds one to the
 * same answers as the same handler served through Nest's router.
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The controller method a hot read calls (`@HotRead()`). */
    hotRead?: HotReadTarget;
  }
}

export interface HotReadTarget {
  controller: Type<unknown>;
  method: string;
}

/**
 * Serves a GET route as a hot read (see above). It is also served without a request context
 * (`@NoRequestContext()`): it writes nothing that would carry one.
 */
export function HotRead(): MethodDecorator {
  return (target, key, descriptor) => {
    if (typeof key !== 'string') throw new Error('@HotRead() goes on a named method');
    const controller = (target as { constructor: Type<unknown> }).constructor;
    RouteConfig({ requestContext: false, hotRead: { controller, method: key } })(
      target,
      key,
      descriptor,
    );
  };
}

/** The hot read a route (its Fastify `config`) is, if it is one. */
export function hotReadOf(
  config: { hotRead?: HotReadTarget } | undefined,
): HotReadTarget | undefined {
  return config?.hotRead;
}

type Handler = (...args: unknown[]) => unknown;

/** How one argument of the handler is made from the request. */
interface Param {
  index: number;
  extract: (req: FastifyRequest, reply: FastifyReply, context: ExecutionContextHost) => unknown;
  /** What the pipes are told (as Nest's pipes consumer tells them), and the pipes themselves. */
  metadata: ArgumentMetadata;
  pipes: PipeTransform[];
}

interface ParamMetadata {
  index: number;
  data?: unknown;
  pipes?: unknown[];
  factory?: (data: unknown, context: ExecutionContextHost) => unknown;
  schema?: ArgumentMetadata['schema'];
}

/** The parameter kinds a hot read may take, and whether Nest's pipes run on each (as in Nest). */
const PIPEABLE = new Set<RouteParamtypes>([
  RouteParamtypes.QUERY,
  RouteParamtypes.PARAM,
  RouteParamtypes.COOKIES,
  RouteParamtypes.SIGNED_COOKIES,
]);
const PLAIN = new Set<RouteParamtypes>([
  RouteParamtypes.REQUEST,
  RouteParamtypes.HEADERS,
  RouteParamtypes.IP,
  RouteParamtypes.HOST,
]);

/** `@Next()` is refused; the parameter factory still wants a function. */
const NO_NEXT = (): void => undefined;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Makes the Fastify handlers of an application's hot reads. */
export class HotReads {
  private readonly container: NestContainer;
  private readonly guards: GuardsContextCreator;
  private readonly interceptors: InterceptorsContextCreator;
  private readonly pipes: PipesContextCreator;
  private readonly filters: RouterExceptionFilters;
  private readonly tokens = new ParamsTokenFactory();
  private readonly params: RouteParamsFactory;
  private readonly served: string[] = [];

  constructor(app: INestApplication) {
    // Nest keeps its container on the application without a public accessor; the context creators
    // it builds its own router with need it (as @nestjs/core's ExternalContextCreator does).
    this.container = (app as unknown as { container: NestContainer }).container;
    const config = this.container.applicationConfig;
    this.guards = new GuardsContextCreator(this.container, config);
    this.interceptors = new InterceptorsContextCreator(this.container, config);
    this.pipes = new PipesContextCreator(this.container, config);
    this.filters = new RouterExceptionFilters(this.container, config!, app.getHttpAdapter());
    this.params = new RouteParamsFactory(config);
  }

  /** `METHOD path` of every hot read made so far (for tests). */
  routes(): readonly string[] {
    return this.served;
  }

  /**
   * The Fastify handler of a hot read, for the route Nest registers at `url`. Throws (at start-up)
   * when the route uses something the shortcut does not run.
   */
  handlerFor(
    target: HotReadTarget,
    method: string,
    url: string,
  ): (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined> {
    const name = `${target.controller.name}.${target.method}`;
    const refuse = (why: string): never => {
      throw new Error(`@HotRead() ${name} (${method} ${url}): ${why}`);
    };
    const { instance, moduleKey } = this.controllerOf(target.controller, refuse);
    const callback = (instance as Record<string, Handler | undefined>)[target.method];
    if (typeof callback !== 'function') return refuse('no such method');
    if (Reflect.getMetadata(METHOD_METADATA, callback) !== RequestMethod.GET)
      refuse('a hot read is a GET route');
    for (const [key, what] of [
      [HEADERS_METADATA, '@Header()'],
      [REDIRECT_METADATA, '@Redirect()'],
      [RENDER_METADATA, '@Render()'],
      [SSE_METADATA, '@Sse()'],
    ] as const) {
      const value: unknown = Reflect.getMetadata(key, callback);
      if (value !== undefined && !(Array.isArray(value) && value.length === 0))
        refuse(`${what} is not supported`);
    }
    if (this.interceptors.create(instance, callback, moduleKey).length > 0)
      refuse('interceptors are not run on a hot read');
    const guards = this.guards.create(instance, callback, moduleKey);
    const pipes = this.pipes.create(instance, callback, moduleKey);
    const params = this.paramsOf(instance, target.method, pipes, refuse);
    const argc = params.reduce((n, p) => Math.max(n, p.index + 1), 0);
    const status = (Reflect.getMetadata(HTTP_CODE_METADATA, callback) as number | undefined) ?? 200;
    const exceptions = this.filters.create(instance, callback as RouterProxyCallback, moduleKey);
    const classRef = target.controller;
    this.served.push(`${method} ${url}`);

    return async function hotRead(req, reply) {
      const context = new ExecutionContextHost([req, reply, undefined], classRef, callback);
      try {
        for (const guard of guards) {
          const answer = guard.canActivate(context);
          const allowed =
            answer === true ||
            (answer !== false && (await (isObservable(answer) ? lastValueFrom(answer) : answer)));
          if (!allowed) throw new ForbiddenException(FORBIDDEN_MESSAGE);
        }
        const args: unknown[] = new Array(argc);
        for (const param of params) {
          // As Nest's pipes consumer: a thenable is settled first, then each pipe in turn.
          let value = param.extract(req, reply, context);
          if (isThenable(value)) value = await value;
          for (const pipe of param.pipes) {
            value = pipe.transform(value, param.metadata);
            if (isThenable(value)) value = await value;
          }
          args[param.index] = value;
        }
        let result = callback.apply(instance, args);
        if (isThenable(result)) result = await result;
        if (isObservable(result)) result = await lastValueFrom(result);
        reply.code(status).send(result);
        // As Nest's router proxy: nothing once sent, the reply once an exception filter answered.
        return undefined;
      } catch (err) {
        exceptions.next(err as Error, new ExecutionContextHost([req, reply, undefined]));
        return reply;
      }
    };
  }

  private controllerOf(
    controller: Type<unknown>,
    refuse: (why: string) => never,
  ): { instance: object; moduleKey: string } {
    for (const [moduleKey, module] of this.container.getModules()) {
      const wrapper = module.controllers.get(controller);
      if (!wrapper) continue;
      if (!wrapper.isDependencyTreeStatic()) refuse('a request-scoped controller');
      const instance = wrapper.instance as object | undefined;
      if (!instance) return refuse('the controller has no instance');
      return { instance, moduleKey };
    }
    return refuse('the controller is in no module');
  }

  private metadataOf(
    metatype: unknown,
    type: RouteParamtypes | string,
    meta: ParamMetadata,
  ): ArgumentMetadata {
    return {
      metatype: metatype as ArgumentMetadata['metatype'],
      type: this.tokens.exchangeEnumForString(type as RouteParamtypes),
      data: meta.data as ArgumentMetadata['data'],
      ...(meta.schema === undefined ? {} : { schema: meta.schema }),
    };
  }

  /** The handler's arguments, from Nest's parameter metadata, as Nest's router makes them. */
  private paramsOf(
    instance: object,
    method: string,
    pipes: PipeTransform[],
    refuse: (why: string) => never,
  ): Param[] {
    const metadata =
      (Reflect.getMetadata(ROUTE_ARGS_METADATA, instance.constructor, method) as
        Record<string, ParamMetadata> | undefined) ?? {};
    const types = (Reflect.getMetadata(PARAMTYPES_METADATA, instance, method) ?? []) as unknown[];
    return Object.entries(metadata).map(([key, meta]): Param => {
      const type = key.split(':')[0] ?? '';
      const paramPipes = this.pipes.createConcreteContext<unknown[], PipeTransform[]>(
        meta.pipes ?? [],
      );
      const metatype = types[meta.index];
      if (key.includes(CUSTOM_ROUTE_ARGS_METADATA)) {
        const factory = meta.factory;
        if (typeof factory !== 'function') return refuse(`parameter ${meta.index} has no factory`);
        return {
          index: meta.index,
          extract: (_req, _reply, context) => factory(meta.data, context),
          metadata: this.metadataOf(metatype, type, meta),
          // Custom parameters go through the pipes too (Nest's router does the same).
          pipes: pipes.concat(paramPipes),
        };
      }
      const kind = Number(type) as RouteParamtypes;
      if (!PIPEABLE.has(kind) && !PLAIN.has(kind))
        refuse(`parameter ${meta.index} (${RouteParamtypes[kind] ?? type}) is not supported`);
      const data = meta.data as string;
      return {
        index: meta.index,
        extract: (req, reply) =>
          this.params.exchangeKeyForValue(kind, data, { req, res: reply, next: NO_NEXT }),
        metadata: this.metadataOf(metatype, kind, meta),
        pipes: PIPEABLE.has(kind) ? pipes.concat(paramPipes) : [],
      };
    });
  }
}

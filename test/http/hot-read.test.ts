import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  Controller,
  createParamDecorator,
  Get,
  Injectable,
  Module,
  Param,
  Post,
  Query,
  Res,
  UseGuards,
  UseInterceptors,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Type } from 'class-transformer';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { of, type Observable } from 'rxjs';
import request from 'supertest';
import { AppException } from '#src/common/errors/app.exception.js';
import { ProblemFilter } from '#src/common/errors/problem.filter.js';
import { EnumField, IntField } from '#src/common/validation.js';
import { HotRead } from '#src/common/http/hot-read.js';
import { ParseIdPipe } from '#src/common/http/id-param.js';
import { createPino } from '#src/common/logging.js';
import { NoRequestContext } from '#src/common/request-context.js';
import { loadConfig } from '#src/config/config.js';
import { API_PREFIX, configureHttp, createHttpAdapter, hotReadRoutes } from '#src/http-settings.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { makeUser } from '../factories/users.js';

/** What the guards saw, in order, for the request carrying `x-trace`. */
const traces = new Map<string, string[]>();
function trace(req: FastifyRequest, step: string): void {
  const id = req.headers['x-trace'];
  if (typeof id !== 'string') return;
  traces.set(id, [...(traces.get(id) ?? []), step]);
}

/** A global guard answering in each of the ways Nest lets a guard answer, by `x-guard`. */
@Injectable()
class GlobalGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean | Promise<boolean> | Observable<boolean> {
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    trace(req, `global:${context.getClass().name}.${context.getHandler().name}`);
    switch (req.headers['x-guard']) {
      case 'deny':
        return false;
      case 'throw':
        throw AppException.forbidden('The global guard says no.');
      case 'async':
        return Promise.resolve(true);
      case 'async-deny':
        return Promise.resolve(false);
      case 'observable':
        return of(true);
      case undefined:
      default:
        return true;
    }
  }
}

/** A method guard: runs after the global one, sees the same context. */
@Injectable()
class MethodGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    trace(req, `method:${context.getHandler().name}`);
    if (req.headers['x-method-guard'] === 'reject')
      throw AppException.unauthenticated('The method guard wants a credential.');
    return true;
  }
}

const Caller = createParamDecorator((data: string, context: ExecutionContext) => {
  const req = context.switchToHttp().getRequest<FastifyRequest>();
  return `${data}:${String(req.headers['x-caller'] ?? 'nobody')}`;
});

class ListQuery {
  @Type(() => Number)
  @IntField({ optional: true, min: 1, max: 50 })
  limit?: number;

  @EnumField(['value', 'promise', 'observable', 'throw', 'crash'], { optional: true })
  answer?: 'value' | 'promise' | 'observable' | 'throw' | 'crash';
}

/** One answer for both routes: only how it is served differs. */
function answer(who: string, id: string, q: ListQuery): unknown {
  const body = { who, id, limit: q.limit ?? null, limitType: typeof q.limit };
  switch (q.answer) {
    case 'promise':
      return Promise.resolve(body);
    case 'observable':
      return of(body);
    case 'throw':
      throw AppException.notFound('No such thing.');
    case 'crash':
      throw new Error('a bug, with a secret that must not leak');
    case 'value':
    case undefined:
      return body;
  }
}

@Controller('same')
class SameController {
  @HotRead()
  @UseGuards(MethodGuard)
  @Get('hot/:id')
  hot(
    @Caller('c') who: string,
    @Param('id', new ParseIdPipe('id')) id: string,
    @Query() q: ListQuery,
  ): unknown {
    return answer(who, id, q);
  }

  @NoRequestContext()
  @UseGuards(MethodGuard)
  @Get('nest/:id')
  nest(
    @Caller('c') who: string,
    @Param('id', new ParseIdPipe('id')) id: string,
    @Query() q: ListQuery,
  ): unknown {
    return answer(who, id, q);
  }
}

@Module({
  controllers: [SameController],
  providers: [
    { provide: APP_FILTER, useClass: ProblemFilter },
    { provide: APP_GUARD, useClass: GlobalGuard },
  ],
})
class SameModule {}

async function startApp(module: new () => unknown): Promise<NestFastifyApplication> {
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', SECRET_KEY: 'x'.repeat(48) });
  const app = await NestFactory.create<NestFastifyApplication>(module, createHttpAdapter(config), {
    logger: false,
    abortOnError: false,
  });
  await configureHttp(app, config, createPino('silent'));
  // Under the API prefix, as Gatehouse's routes: errors answer problem+json there.
  app.setGlobalPrefix(API_PREFIX);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

/** A response as a client sees it, its request id (which each request has its own) aside. */
function seen(res: request.Response): unknown {
  const id = String(res.headers['x-request-id']);
  const headers = Object.fromEntries(
    Object.entries(res.headers).filter(([k]) => k !== 'date' && k !== 'x-request-id'),
  );
  return { status: res.status, headers, text: res.text.replaceAll(id, '<request id>') };
}

const ID = '0b6f2f1e-7a1c-4c59-9a53-3c0f3b8d2c11';

describe('hot reads (GET routes served by their own Fastify handler)', () => {
  let app: NestFastifyApplication;
  before(async () => {
    app = await startApp(SameModule);
  });
  after(async () => app.close());

  it('serves only the routes marked @HotRead() that way', () => {
    assert.deepEqual([...hotReadRoutes(app)].sort(), [
      'GET /api/v1/same/hot/:id',
      'HEAD /api/v1/same/hot/:id',
    ]);
  });

  const cases: { name: string; path: string; headers?: Record<string, string> }[] = [
    { name: 'a plain answer', path: `${ID}`, headers: { 'x-caller': 'ann' } },
    { name: 'a query transformed by the global pipe', path: `${ID}?limit=7` },
    { name: 'a query the pipe refuses, naming the field', path: `${ID}?limit=0` },
    { name: 'an unknown query field', path: `${ID}?nope=1` },
    { name: 'a path id its parameter pipe refuses', path: 'not-a-uuid' },
    { name: 'an answer by promise', path: `${ID}?answer=promise` },
    { name: 'an answer by Observable', path: `${ID}?answer=observable` },
    { name: 'a handler throwing a problem', path: `${ID}?answer=throw` },
    { name: 'a handler crashing (500, nothing leaked)', path: `${ID}?answer=crash` },
    { name: 'a global guard answering false', path: ID, headers: { 'x-guard': 'deny' } },
    { name: 'a global guard throwing', path: ID, headers: { 'x-guard': 'throw' } },
    { name: 'a global guard answering by promise', path: ID, headers: { 'x-guard': 'async' } },
    { name: 'a global guard refusing by promise', path: ID, headers: { 'x-guard': 'async-deny' } },
    {
      name: 'a global guard answering by Observable',
      path: ID,
      headers: { 'x-guard': 'observable' },
    },
    { name: 'a method guard throwing', path: ID, headers: { 'x-method-guard': 'reject' } },
  ];
  for (const c of cases) {
    it(`answers ${c.name} exactly as Nest's router does`, async () => {
      const hot = await request(app.getHttpServer())
        .get(`/api/v1/same/hot/${c.path}`)
        .set({ accept: 'application/json', ...c.headers, 'x-trace': `hot ${c.name}` });
      const nest = await request(app.getHttpServer())
        .get(`/api/v1/same/nest/${c.path}`)
        .set({ accept: 'application/json', ...c.headers, 'x-trace': `nest ${c.name}` });
      assert.deepEqual(seen(hot), seen(nest));
      assert.doesNotMatch(hot.text, /secret/);
      // The guards ran in the same order, with the class and handler a guard reads metadata from.
      assert.deepEqual(
        traces.get(`hot ${c.name}`)?.map((s) => s.replace('.hot', '.X').replace(':hot', ':X')),
        traces.get(`nest ${c.name}`)?.map((s) => s.replace('.nest', '.X').replace(':nest', ':X')),
      );
    });
  }

  it('gives the handler the transformed query and the custom parameter', async () => {
    const res = await request(app.getHttpServer())
      .get(`/api/v1/same/hot/${ID}?limit=7`)
      .set('x-caller', 'bea')
      .expect(200);
    assert.deepEqual(res.body, { who: 'c:bea', id: ID, limit: 7, limitType: 'number' });
    assert.match(String(res.headers['content-type']), /^application\/json/);
  });

  it('refuses with problem+json naming the field', async () => {
    const res = await request(app.getHttpServer())
      .get(`/api/v1/same/hot/${ID}?limit=99`)
      .set('accept', 'application/json')
      .expect(400);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    assert.match(String((res.body as { detail: string }).detail), /limit/);
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const get = await request(app.getHttpServer()).get(`/api/v1/same/hot/${ID}`).expect(200);
    const head = await request(app.getHttpServer()).head(`/api/v1/same/hot/${ID}`).expect(200);
    assert.equal(head.text, undefined);
    assert.equal(head.headers['content-type'], get.headers['content-type']);
    assert.equal(head.headers['content-security-policy'], get.headers['content-security-policy']);
  });
});

describe('hot reads refuse at start-up what they would not run', () => {
  @Injectable()
  class PassThrough implements NestInterceptor {
    intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
      return next.handle();
    }
  }

  @Controller('bad')
  class PostController {
    @HotRead()
    @Post('write')
    write(): unknown {
      return {};
    }
  }
  @Controller('bad')
  class InterceptedController {
    @HotRead()
    @UseInterceptors(PassThrough)
    @Get('intercepted')
    read(): unknown {
      return {};
    }
  }
  @Controller('bad')
  class OwnReplyController {
    @HotRead()
    @Get('own-reply')
    read(@Res() reply: FastifyReply): void {
      void reply.send({});
    }
  }

  const refusals: [string, new () => unknown, RegExp][] = [
    ['a POST route', PostController, /PostController\.write .*a hot read is a GET route/],
    ['an intercepted route', InterceptedController, /InterceptedController\.read .*interceptors/],
    [
      'a route writing its own reply',
      OwnReplyController,
      /OwnReplyController\.read .*parameter 0 .*not supported/,
    ],
  ];
  for (const [what, controller, message] of refusals) {
    it(`refuses ${what}`, async () => {
      @Module({ controllers: [controller], providers: [PassThrough] })
      class BadModule {}
      await assert.rejects(startApp(BadModule), message);
    });
  }
});

describe("Gatehouse's hot reads", () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => t.close());

  it('are the three checks services call most, GET (and HEAD) only', () => {
    assert.deepEqual([...hotReadRoutes(t.app)].sort(), [
      'GET /api/v1/auth/whoami',
      'GET /api/v1/projects/:id/permissions',
      'GET /api/v1/users/me',
      'HEAD /api/v1/auth/whoami',
      'HEAD /api/v1/projects/:id/permissions',
      'HEAD /api/v1/users/me',
    ]);
  });

  it('answer HEAD /users/me like GET, without the body', async () => {
    const ann = await makeUser(t);
    const get = await t.http.get('/api/v1/users/me').set(ann.auth).expect(200);
    assert.equal((get.body as { id: string }).id, ann.user.id);
    const head = await t.http.head('/api/v1/users/me').set(ann.auth).expect(200);
    assert.equal(head.text, undefined);
    assert.equal(head.headers['content-type'], get.headers['content-type']);
    await t.http.head('/api/v1/users/me').expect(401);
  });
});

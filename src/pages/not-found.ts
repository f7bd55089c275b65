import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';
import { AppException } from '#src/common/errors/app.exception.js';
import { problemFromAppException } from '#src/common/errors/problem.filter.js';
import { errorStatusPage, isMachinePath, sendPage } from '#src/common/http/html.js';

/**
 * The last handler of the HTTP stack: an address no route answers (outside the API prefix, whose
 * own not-found answer is Nest's) gets the HTML 404 page, or problem+json on machine paths;
 * never Express's bare "Cannot GET". Added once every route and Nest's own handlers are in place.
 */
@Injectable()
export class NotFoundFallback implements OnApplicationBootstrap {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onApplicationBootstrap(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (!adapter) return;
    adapter.use((req: Request, res: Response, next: NextFunction) => {
      if (res.headersSent) return next();
      const path = (req.originalUrl ?? req.url ?? '').split('?')[0] ?? '';
      const problem = problemFromAppException(AppException.notFound('Route'));
      if (isMachinePath(path)) {
        res.status(404).type('application/problem+json').send(JSON.stringify(problem));
        return;
      }
      const page = errorStatusPage(problem);
      sendPage(res, 404, page.title, page.body);
    });
  }
}

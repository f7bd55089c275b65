import { Controller, Get, Header, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { ApiProblems } from '#src/common/http/api-problems.js';
import { Authenticated } from '#src/kernel/auth.decorators.js';
import {
  AuditFilterQuery,
  AuditListQuery,
  AuditLogPage,
  AuditVerifyResponse,
} from '#src/audit/dto/audit.dto.js';
import { AuditLogService } from '#src/audit/audit-log.service.js';

/**
 * The whole change log for those holding `audit.read` (server admins have it; a named role can
 * grant it): filtered pages, a streamed NDJSON export with the chain hashes, and verification.
 */
@ApiTags('audit')
@Controller('audit')
export class AuditController {
  constructor(private readonly log: AuditLogService) {}

  @Authenticated({ permission: 'audit.read' })
  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'listAuditEntries',
    summary: 'The change log, newest first, filtered and keyset-paged',
  })
  @ApiOkResponse({ type: AuditLogPage })
  @ApiProblems(400, 401, 403)
  list(@Query() q: AuditListQuery): Promise<AuditLogPage> {
    return this.log.list(this.log.filter(q), q.limit ?? 50, q.cursor);
  }

  @Authenticated({ permission: 'audit.read' })
  @Get('export')
  @ApiOperation({
    operationId: 'exportAuditEntries',
    summary: 'The same entries as NDJSON, oldest first, streamed, each with its chain hash',
  })
  @ApiProduces('application/x-ndjson')
  @ApiOkResponse({
    description: 'One JSON entry (as in the list, with `hash` and `prevHash`) per line',
    content: { 'application/x-ndjson': { schema: { type: 'string' } } },
  })
  @ApiProblems(400, 401, 403)
  async export(@Query() q: AuditFilterQuery, @Res() res: FastifyReply): Promise<void> {
    const entries = this.log.export(this.log.filter(q));
    // The first batch is read before any byte is sent, so a failing database is still a problem.
    const first = await entries.next();
    async function* lines(): AsyncGenerator<string> {
      try {
        for (let next = first; !next.done; next = await entries.next()) {
          yield `${JSON.stringify(next.value)}\n`;
        }
      } finally {
        // The client went away or the database failed: the reader's batches end here too.
        await entries.return(undefined);
      }
    }
    // Fastify pipes the stream with back-pressure; a failure after the headers cuts the response,
    // so the client sees it incomplete, never a clean end.
    await res
      .status(200)
      .headers({
        'Content-Type': 'application/x-ndjson; charset=utf-8',
        'Cache-Control': 'no-store',
        'Content-Disposition': 'attachment; filename="gatehouse-audit.ndjson"',
      })
      .send(Readable.from(lines()));
  }

  @Authenticated({ permission: 'audit.read' })
  @Get('verify')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'verifyAuditChain',
    summary: 'Verifies the hash chain: every link, hash and digest',
  })
  @ApiOkResponse({ type: AuditVerifyResponse })
  @ApiProblems(401, 403)
  verify(): Promise<AuditVerifyResponse> {
    return this.log.verify();
  }
}

import { Controller, Get } from '@nestjs/common';
import { AppConfig } from '#src/config/config.js';
import { ringOf } from '#src/database/data-source.js';
import { Database } from '#src/database/database.service.js';
import { HostRing } from '#src/database/failover.js';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '#src/common/http/api-problems.js';
import { LivenessResponse, ReadinessResponse } from '#src/health/health.responses.js';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
  type HealthCheckResult,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import { Public } from '#src/kernel/auth.decorators.js';

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicator: HealthIndicatorService,
    private readonly database: Database,
    private readonly config: AppConfig,
  ) {}

  @Public()
  @Get('live')
  @ApiOperation({ operationId: 'checkLiveness', summary: 'Liveness' })
  @ApiOkResponse({ type: LivenessResponse })
  live(): LivenessResponse {
    return { status: 'ok' };
  }

  /**
   * 503 while the database does not answer within a second, or (MariaDB Galera) while the node
   * this instance uses is outside the primary component or not ready; `cluster` then names the
   * configured database hosts that are not members of the cluster.
   */
  @Public()
  @Get('ready')
  // Documented here rather than by terminus: its 503 is answered as problem+json by ProblemFilter.
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({ operationId: 'checkReadiness', summary: 'Readiness: the database answers' })
  @ApiOkResponse({ type: ReadinessResponse })
  @ApiProblems(503)
  ready(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.db.pingCheck('database', { timeout: 1000 }),
      () => this.cluster(),
    ]);
  }

  /** Galera status when wsrep is on; nothing (no `cluster` key) on SQLite or plain MySQL. */
  private async cluster(): Promise<HealthIndicatorResult> {
    // Nothing when the database does not answer: the database check already reports that.
    const v = await this.database.galeraStatus(1000);
    if (v === null) return {};
    const members = (v.wsrep_incoming_addresses ?? '').split(',').filter(Boolean);
    const ring = ringOf(this.config.database);
    const configured = ring ? ring.hosts.map((h) => HostRing.key(h)) : [];
    const data = {
      clusterStatus: v.wsrep_cluster_status ?? '',
      ready: v.wsrep_ready === 'ON',
      state: v.wsrep_local_state_comment ?? '',
      size: Number(v.wsrep_cluster_size ?? 0),
      members,
      lostHosts: configured.filter((h) => !members.includes(h)),
      ...(ring ? { host: HostRing.key(ring.current) } : {}),
    };
    const session = this.indicator.check('cluster');
    // A donor (Donor/Desynced) still serves; a joiner or a non-primary node does not (wsrep_ready OFF).
    return data.clusterStatus === 'Primary' && data.ready ? session.up(data) : session.down(data);
  }
}

import { Controller, Get } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '#src/config/config.js';
import { ringOf } from '#src/database/data-source.js';
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
    private readonly dataSource: DataSource,
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
    if (this.dataSource.options.type === 'better-sqlite3') return {};
    const rows = await Promise.race([
      this.dataSource.query<{ Variable_name: string; Value: string }[]>(
        "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_on', 'wsrep_ready', 'wsrep_cluster_status', 'wsrep_local_state_comment', 'wsrep_cluster_size', 'wsrep_incoming_addresses')",
      ),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 1000).unref()),
    ]).catch(() => null);
    // The database check already reports a database that does not answer.
    if (rows === null) return {};
    const v = Object.fromEntries(rows.map((r) => [r.Variable_name.toLowerCase(), r.Value]));
    if (v.wsrep_ready === undefined || v.wsrep_cluster_status === 'Disconnected') return {};
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

import { appendFileSync, existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { GaleraCluster } from '../test/support/galera.js';
import { GatehouseProcess } from '../test/support/gatehouse-process.js';
import { PrivateMariadb } from '../test/support/mariadb.js';
import { machine } from './lib/machine.js';

/**
 * `npm run bench:cluster`: audited admin writes (POST /api/v1/users, each one appending to the
 * audit chain) per second, on one MariaDB server with one Gatehouse node, then on a three-node
 * Galera cluster with three Gatehouse nodes (one per database node), the same load spread over
 * them. Appends a dated section to bench/RESULTS.md. Settings (env):
 *   BENCH_SECONDS      seconds per measurement (default 15)
 *   BENCH_CONNECTIONS  concurrent writers (default 6)
 *   BENCH_RESULTS      output file (default bench/RESULTS.md)
 */
const SECONDS = Number(process.env.BENCH_SECONDS ?? '15');
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? '6');
const RESULTS = resolve(process.env.BENCH_RESULTS ?? 'bench/RESULTS.md');
const DATABASE = 'gatehouse_bench_cluster';
const PASSWORD = 'bench-Password-123';

interface Row {
  what: string;
  ok: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: Record<string, number>;
  note: string;
}

let n = 0;
async function measure(what: string, nodes: GatehouseProcess[]): Promise<Row> {
  const signup = await (nodes[0] as GatehouseProcess).call('POST', '/api/v1/auth/signup', {
    body: { email: `admin-${process.pid}-${++n}@bench.test`, password: PASSWORD },
  });
  if (signup.status !== 201) throw new Error(`signup: ${signup.status}`);
  const token = String(signup.body.token);
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const end = Date.now() + SECONDS * 1000;
  const start = Date.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, w) => {
      for (let i = 0; Date.now() < end; i++) {
        const node = nodes[(w + i) % nodes.length] as GatehouseProcess;
        const r = await node
          .call('POST', '/api/v1/users', {
            token,
            body: { email: `u-${process.pid}-${w}-${i}-${++n}@bench.test`, password: PASSWORD },
            timeoutMs: 10_000,
          })
          .catch(() => null);
        if (r?.status === 201) latencies.push(r.ms);
        else {
          const key = String(r?.status ?? 'no answer');
          errors[key] = (errors[key] ?? 0) + 1;
        }
      }
    }),
  );
  const elapsed = (Date.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  return {
    what,
    ok: latencies.length,
    perSecond: Math.round((latencies.length / elapsed) * 10) / 10,
    p50: pct(0.5),
    p99: pct(0.99),
    errors,
    note: '',
  };
}

const env = (url: string): Record<string, string> => ({
  DATABASE_URL: url,
  BCRYPT_COST: '4',
  LOG_LEVEL: 'warn',
});

const rows: Row[] = [];
const loads: number[] = [loadavg()[0] ?? 0];
const started = Date.now();

{
  const db = await PrivateMariadb.start();
  const nodes: GatehouseProcess[] = [];
  try {
    await db.query(
      'mysql',
      `CREATE DATABASE ${DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
    nodes.push(await GatehouseProcess.start('single', env(db.url(DATABASE))));
    rows.push(await measure('one MariaDB 10.11, one Gatehouse node', nodes));
    loads.push(loadavg()[0] ?? 0);
  } finally {
    for (const g of nodes) await g.stop();
    await db.destroy();
  }
}
{
  const cluster = await GaleraCluster.start(3, [DATABASE]);
  const nodes: GatehouseProcess[] = [];
  try {
    for (const i of [0, 1, 2]) {
      nodes.push(await GatehouseProcess.start(`g${i}`, env(cluster.url(DATABASE, i))));
    }
    const before = await Promise.all(cluster.nodes.map((x) => x.status()));
    const row = await measure(
      'three-node Galera cluster, three Gatehouse nodes (one per DB node)',
      nodes,
    );
    const after = await Promise.all(cluster.nodes.map((x) => x.status()));
    const certFailures = after.reduce(
      (sum, s, i) =>
        sum +
        Number(s.wsrep_local_cert_failures ?? 0) -
        Number(before[i]?.wsrep_local_cert_failures ?? 0),
      0,
    );
    const bfAborts = after.reduce(
      (sum, s, i) =>
        sum + Number(s.wsrep_local_bf_aborts ?? 0) - Number(before[i]?.wsrep_local_bf_aborts ?? 0),
      0,
    );
    row.note = `${certFailures} certification failures, ${bfAborts} brute-force aborts (all retried)`;
    rows.push(row);
    loads.push(loadavg()[0] ?? 0);
  } finally {
    for (const g of nodes) await g.stop();
    await cluster.destroy();
  }
}

const m = machine();
const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
const single = rows[0] as Row;
const lines = [
  '',
  `## ${date} UTC: admin writes, one MariaDB against a three-node Galera cluster`,
  '',
  `- Machine: ${m.cpu}, ${m.cores} cores, ${m.ramGb} GB RAM, ${m.os}, Node ${m.node}; commit ${m.commit}`,
  `- Command: \`npm run bench:cluster\` (${SECONDS} s per measurement, ${CONNECTIONS} concurrent writers, bcrypt cost 4; whole run ${Math.round((Date.now() - started) / 1000)} s)`,
  `- Conditions: load average ${loads.map((l) => l.toFixed(1)).join(' / ')} (start / after each measurement) on the 2 cores; all database and Gatehouse processes on this one machine, on loopback. Only the ratio between the rows means something on a shared machine.`,
  '- What: POST /api/v1/users by an admin session (bcrypt of the password, the user row, its audit entry and the audit head, in one transaction), spread round-robin over the Gatehouse nodes; req/s counts 201 answers.',
  '',
  '| Setup | 201/s | p50 ms | p99 ms | Other answers | Ratio | Note |',
  '| --- | ---: | ---: | ---: | --- | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${r.what} | ${r.perSecond} | ${r.p50} | ${r.p99} | ${
        Object.entries(r.errors)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ') || 'none'
      } | ${(r.perSecond / single.perSecond).toFixed(2)}x | ${r.note} |`,
  ),
  '',
];
if (!existsSync(RESULTS)) throw new Error(`no ${RESULTS}`);
appendFileSync(RESULTS, lines.join('\n'));
console.log(lines.join('\n'));
process.exit(0);

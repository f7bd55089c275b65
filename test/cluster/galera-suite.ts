// `npm run test:galera [-- <substr>...]`: the whole suite (or the matching files) on a one-node
// MariaDB Galera cluster (wsrep on) of its own, so the transaction retry paths and Galera's rules
// (primary keys, no GET_LOCK, certification at commit) meet every ordinary test. The node runs in
// a temporary folder on a free loopback port and is stopped whatever the outcome.
import { spawn } from 'node:child_process';
import { GaleraCluster } from '../support/galera.js';

const cluster = await GaleraCluster.start(1);
let status = 1;
const stop = (): void => {
  void cluster.destroy().finally(() => process.exit(status));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
try {
  const url = `mysql://root@${cluster.node(0).address}/gatehouse_test`;
  const child = spawn(process.execPath, ['scripts/run-tests.mjs', ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, TEST_DATABASE_URL: url },
  });
  status = await new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  const s = await cluster.node(0).status();
  console.log(
    `# galera node after the suite: ${s.wsrep_cluster_status}, ${s.wsrep_local_state_comment}, certification failures ${s.wsrep_local_cert_failures}, brute-force aborts ${s.wsrep_local_bf_aborts}`,
  );
} finally {
  await cluster.destroy();
}
process.exit(status);

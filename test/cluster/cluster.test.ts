import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuditService } from '#src/audit/audit.service.js';
import { createTestApp } from '../support/app.js';
import { GaleraCluster } from '../support/galera.js';
import { GatehouseProcess, type Answer } from '../support/gatehouse-process.js';

/**
 * `npm run test:cluster`: three MariaDB Galera nodes and three Gatehouse nodes (the built server,
 * each on a different database node first, with every node in its DATABASE_URL for failover)
 * sharing Redis; a bounded mixed load through all Gatehouse nodes while one database node is
 * killed (SIGKILL) and rejoins, and one Gatehouse node is stopped (SIGTERM) and restarted.
 * Not part of `npm test` (scripts/run-tests.mjs skips test/cluster). The script runs this file
 * with plain `node`, not through `node --test`: the runner ends a file's process without letting
 * it run its exit handlers, and these kill the servers the test started (test/support/cleanup.ts)
 * when a CI `timeout` or a Ctrl-C stops the run. The suite's own timeout bounds a run that hangs.
 */
const DATABASE = 'gatehouse_cluster';
const REDIS_URL = process.env.TEST_CLUSTER_REDIS_URL ?? 'redis://127.0.0.1:6379/13';
const PROBLEM = 'application/problem+json';
/**
 * A hang is a request that never gets an answer: the load's clients give up after 30 s (a usual
 * client or proxy timeout). Gatehouse's own bounds are far shorter (a pool wait of 1.5 s, a
 * statement of 2.5 s, a connection attempt of 2 s per host, then 503), so an answer later than
 * that means time spent queued on a busy machine, not waiting on a lost database node; how fast
 * the answers come is the benchmark's business (bench/cluster.ts), not this test's.
 */
const CLIENT_TIMEOUT_MS = 30_000;
/** At most this share of the load's requests may fail (503 problem+json) during the failures. */
const MAX_ERROR_RATIO = 0.1;
const PASSWORD = 'cluster-test-Password-1';
const API = '/api/v1';

type Op = 'signin' | 'whoami' | 'create-user' | 'grant' | 'membership' | 'revoke';

interface Outcome {
  /** Seconds since the load started, when the request was sent. */
  at: number;
  op: Op;
  node: string;
  status: number | 'no answer';
  type: string;
  ms: number;
  error?: string;
}

let counter = 0;
const email = (tag: string): string => `${tag}-${process.pid}-${++counter}@cluster.test`;

describe('Gatehouse on a three-node Galera cluster', { timeout: 600_000 }, () => {
  let cluster: GaleraCluster;
  const nodes: GatehouseProcess[] = [];
  let adminToken = '';
  let adminId = '';
  let workspace = '';
  /** Users everyone signs in as (created before the load). */
  const pool: { id: string; email: string }[] = [];
  const outcomes: Outcome[] = [];
  /** Writes answered 2xx during the load: each must be on every database node afterwards. */
  const acked = {
    users: [] as string[],
    grants: [] as string[],
    memberships: [] as string[],
    revokedSessions: [] as string[],
  };
  /** Gatehouse nodes the load balancer sends to (a node being stopped is taken out first). */
  const inRotation = new Set<GatehouseProcess>();

  before(async () => {
    cluster = await GaleraCluster.start(3, [DATABASE]);
    // Node A migrates the schema alone; B and C then start on it.
    for (const [i, name] of ['A', 'B', 'C'].entries()) {
      nodes.push(
        await GatehouseProcess.start(name, {
          DATABASE_URL: cluster.url(DATABASE, i),
          REDIS_URL,
        }),
      );
    }
    for (const n of nodes) inRotation.add(n);
  });

  after(async () => {
    for (const n of nodes) await n.stop().catch(() => n.kill());
    await cluster?.destroy();
  });

  const node = (i: number): GatehouseProcess => nodes[i] as GatehouseProcess;

  /**
   * A request as a client following the contract makes it: a 503 problem+json with Retry-After
   * (a momentary state: a conflict still lost after the server's own retries, a statement past its
   * time limit on a busy machine) is sent again after the pause it names, at most twice. Each such
   * answer is reported as a diagnostic with what the server logged for it, so a run that needed one
   * says why; anything else is returned as it came. A write answered 503 must not have happened:
   * its repeat then meets no duplicate (a signup's email, say) and answers like the first try would.
   */
  const callAsClient = async (
    t: { diagnostic(message: string): void },
    n: GatehouseProcess,
    method: string,
    path: string,
    opts: { body?: unknown; token?: string },
  ): Promise<Answer> => {
    for (let attempt = 1; ; attempt++) {
      const seen = n.output.length;
      const r = await n.call(method, path, opts);
      if (r.status !== 503 || !r.type.startsWith(PROBLEM) || !r.retryAfter || attempt > 2) {
        return r;
      }
      // The server's log lines reach this process a moment after its answer: read them after the
      // pause.
      await sleep(Number(r.retryAfter) * 1000);
      const said = n.output
        .slice(seen)
        .filter((l) => /"level":(40|50|60)/.test(l))
        .join('\n  ');
      t.diagnostic(
        `${method} ${path} on ${n.name}: 503 after ${r.ms} ms (${JSON.stringify(r.body.detail)}), sent again after ${r.retryAfter} s; the server logged:\n  ${said || '(nothing)'}`,
      );
    }
  };

  it('serves one first admin when the first signups race on all three nodes', async (t) => {
    const emails = nodes.map(() => email('first'));
    const res = await Promise.all(
      nodes.map((n, i) =>
        callAsClient(t, n, 'POST', `${API}/auth/signup`, {
          body: { email: emails[i], password: PASSWORD },
        }),
      ),
    );
    for (const [i, r] of res.entries()) {
      assert.equal(r.status, 201, `${node(i).name}: ${JSON.stringify(r.body)}`);
    }
    const admins = (await cluster
      .node(0)
      .query(DATABASE, "SELECT id, email FROM users WHERE role = 'admin'")) as {
      id: string;
      email: string;
    }[];
    assert.equal(admins.length, 1, `exactly one first admin: ${JSON.stringify(admins)}`);
    const first = res[emails.indexOf((admins[0] as { email: string }).email)] as Answer;
    adminToken = String(first.body.token);
    adminId = String((first.body.user as { id: string }).id);
  });

  it('prepares users and a workspace', async (t) => {
    for (let i = 0; i < 6; i++) {
      const e = email('pool');
      const r = await callAsClient(t, node(i % 3), 'POST', `${API}/users`, {
        token: adminToken,
        body: { email: e, password: PASSWORD },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      pool.push({ id: String(r.body.id), email: e });
    }
    const ws = await callAsClient(t, node(1), 'POST', `${API}/workspaces`, {
      token: adminToken,
      body: { title: `Cluster ${process.pid}` },
    });
    assert.equal(ws.status, 201, JSON.stringify(ws.body));
    workspace = String(ws.body.domain);
  });

  it('keeps answering through a database node crash and a Gatehouse node restart', async () => {
    let stop = false;
    const pick = (w: number): GatehouseProcess => {
      const live = [...inRotation];
      return live[w % live.length] as GatehouseProcess;
    };
    const t0 = Date.now();
    const events: string[] = [];
    const mark = (what: string) => events.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);
    const run = async (op: Op, n: GatehouseProcess, send: () => Promise<Answer>) => {
      const sent = Date.now();
      const at = Math.round((sent - t0) / 100) / 10;
      try {
        const r = await send();
        outcomes.push({ at, op, node: n.name, status: r.status, type: r.type, ms: r.ms });
        return r;
      } catch (err) {
        outcomes.push({
          at,
          op,
          node: n.name,
          status: 'no answer',
          type: '',
          ms: Date.now() - sent,
          error: (err as Error).message,
        });
        return null;
      }
    };
    const worker = async (w: number) => {
      for (let round = 0; !stop; round++) {
        const n = pick(w + round);
        const user = pool[(w + round) % pool.length] as { id: string; email: string };
        const call = (method: string, path: string, body?: unknown, token = adminToken) =>
          n.call(method, path, { body, token, timeoutMs: CLIENT_TIMEOUT_MS });
        switch (round % 5) {
          case 0: {
            const e = email('load');
            const r = await run('create-user', n, () =>
              call('POST', `${API}/users`, { email: e, password: PASSWORD }),
            );
            if (r?.status === 201) acked.users.push(String(r.body.id));
            break;
          }
          case 1: {
            const r = await run('signin', n, () =>
              call('POST', `${API}/auth/login`, { username: user.email, password: PASSWORD }),
            );
            if (r?.status !== 200) break;
            const token = String(r.body.token);
            // Revoke that session through another node (picked per request: the rotation may
            // have changed since the sign-in).
            let other = pick(w + round + 1);
            const who = await run('whoami', other, () =>
              other.call('GET', `${API}/auth/whoami`, { token, timeoutMs: CLIENT_TIMEOUT_MS }),
            );
            const sid = (who?.body.credential as { id?: string } | undefined)?.id;
            if (!sid) break;
            other = pick(w + round + 1);
            const d = await run('revoke', other, () =>
              other.call('DELETE', `${API}/users/${user.id}/sessions/${sid}`, {
                token: adminToken,
                timeoutMs: CLIENT_TIMEOUT_MS,
              }),
            );
            if (d?.status === 204) acked.revokedSessions.push(sid);
            break;
          }
          case 2: {
            const r = await run('grant', n, () =>
              call('POST', `${API}/users/${user.id}/grants`, { type: 'user' }),
            );
            if (r?.status === 201) acked.grants.push(String(r.body.id));
            break;
          }
          case 3: {
            const e = email('member');
            const r = await run('membership', n, () =>
              call('POST', `${API}/workspaces/${workspace}/users`, { emails: [e], role: 'user' }),
            );
            if (r?.status === 201 || r?.status === 200) acked.memberships.push(e);
            break;
          }
          default: {
            await run('signin', n, () =>
              call('POST', `${API}/auth/login`, { username: user.email, password: PASSWORD }),
            );
          }
        }
      }
    };
    const workers = Array.from({ length: 3 }, (_, w) => worker(w));
    const lost = cluster.node(1);
    try {
      await sleep(3000);
      // A database node crashes: the one Gatehouse B prefers.
      await lost.kill();
      mark('database node 2 killed');
      // Readiness on A names it, in a cluster of two, once the cluster has noticed (seconds; the
      // wait is generous for a busy machine, the check is that it happens). While Galera changes
      // its view, one status read can already lack the node's address and still count three
      // members (seen once on 2026-12-03): only the settled view counts.
      const deadline = Date.now() + 90_000;
      for (;;) {
        const r = await node(0).call('GET', '/health/ready', { timeoutMs: CLIENT_TIMEOUT_MS });
        const c = (r.body.details as Record<string, { lostHosts?: string[]; size?: number }>)
          ?.cluster;
        if (r.status === 200 && c?.lostHosts?.includes(lost.address) && c.size === 2) {
          mark('readiness on A names it');
          break;
        }
        assert.ok(
          Date.now() < deadline,
          `readiness never named ${lost.address} in a cluster of two: ${JSON.stringify(r.body)}`,
        );
        await sleep(250);
      }
      // B is ready again on its next host.
      const bDeadline = Date.now() + 90_000;
      while ((await node(1).call('GET', '/health/ready')).status !== 200) {
        assert.ok(Date.now() < bDeadline, 'B never became ready on another database node');
        await sleep(250);
      }
      mark('B ready on another database node');
      await sleep(2000);
      // A Gatehouse node is stopped (taken out of rotation first) and started again.
      inRotation.delete(node(2));
      await node(2).drain();
      await node(2).stop();
      mark('Gatehouse C stopped');
      await sleep(2000);
      await node(2).start();
      inRotation.add(node(2));
      mark('Gatehouse C started again');
      // The crashed database node rejoins (incremental state transfer) while the load goes on.
      await lost.rejoin();
      mark('database node 2 rejoined');
      await sleep(3000);
    } finally {
      stop = true;
      await Promise.all(workers);
    }

    const failures = outcomes.filter((o) => o.status === 'no answer' || o.status >= 500);
    const unexpected = outcomes.filter(
      (o) =>
        o.status === 'no answer' ||
        (o.status !== 503 && o.status >= 300) ||
        (o.status === 503 && !o.type.startsWith(PROBLEM)),
    );
    const summary = `${outcomes.length} requests in ${((Date.now() - t0) / 1000).toFixed(0)} s, ${failures.length} failed (${failures
      .map(
        (f) =>
          `${f.at}s ${f.op}@${f.node}:${f.status}${f.status === 'no answer' ? '' : ` ${f.ms}ms`}`,
      )
      .join(', ')}); events: ${events.join(', ')}; slowest ok: ${outcomes
      .filter((o) => o.status !== 'no answer' && o.status < 300)
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 5)
      .map((o) => `${o.at}s ${o.op}@${o.node} ${o.ms}ms`)
      .join(', ')}`;
    console.log(`# ${summary}`);
    // No hangs, no 500s: every request got an answer before the client gave up, and every
    // answer that was not a success was a 503 problem+json (the database node or the Gatehouse
    // node it needed was away; the client may retry).
    // What the servers said about an unexpected answer (their warning and error lines), to tell a
    // 500's cause.
    const serverErrors = unexpected.length
      ? nodes
          .flatMap((n) =>
            n.output
              .filter((l) => /"level":(40|50|60)|unhandled/.test(l))
              .map((l) => `${n.name}: ${l}`),
          )
          .slice(-40)
          .join('\n')
      : '';
    assert.deepEqual(
      unexpected,
      [],
      `answers other than 2xx or 503 problem+json: ${summary}\n${serverErrors}`,
    );
    assert.ok(outcomes.length >= 50, summary);
    assert.ok(failures.length <= outcomes.length * MAX_ERROR_RATIO, `too many 503s: ${summary}`);
    assert.ok(
      acked.users.length > 0 && acked.grants.length > 0 && acked.revokedSessions.length > 0,
    );
  });

  it('has every acknowledged write on every database node, nothing half-written', async () => {
    for (const n of cluster.nodes) await n.waitReady();
    // Let the last writes apply everywhere (Galera applies them asynchronously after certification).
    await sleep(1000);
    const tables = (
      (await cluster.node(0).query(DATABASE, 'SHOW TABLES')) as Record<string, string>[]
    ).map((r) => Object.values(r)[0] as string);
    const snapshot = async (i: number) => {
      const out: Record<string, unknown> = {};
      for (const t of tables) {
        const [c] = (await cluster.node(i).query(DATABASE, `CHECKSUM TABLE \`${t}\``)) as {
          Checksum: unknown;
        }[];
        out[t] = c?.Checksum;
      }
      return out;
    };
    const first = await snapshot(0);
    for (const i of [1, 2]) assert.deepEqual(await snapshot(i), first, `node ${i + 1} differs`);

    for (const n of cluster.nodes) {
      const has = async (sql: string, ids: string[]) => {
        if (ids.length === 0) return;
        const rows = (await n.query(DATABASE, sql, [ids])) as { id: string }[];
        const found = new Set(rows.map((r) => r.id));
        assert.deepEqual(
          ids.filter((id) => !found.has(id)),
          [],
          `${n.address}: ${sql}`,
        );
      };
      await has('SELECT id FROM users WHERE id IN (?)', acked.users);
      // Each acknowledged user creation has its audit entry (same transaction).
      await has(
        "SELECT target_id AS id FROM audit_entries WHERE action = 'user.create' AND target_id IN (?)",
        acked.users,
      );
      await has('SELECT id FROM grants WHERE id IN (?)', acked.grants);
      await has(
        'SELECT id FROM sessions WHERE revoked_at IS NOT NULL AND id IN (?)',
        acked.revokedSessions,
      );
      await has(
        'SELECT u.email AS id FROM workspace_members m JOIN users u ON u.id = m.user_id WHERE u.email IN (?)',
        acked.memberships,
      );
    }
  });

  it('keeps the invariants: one active signing key, unique identities and emails, an admin', async () => {
    for (const n of cluster.nodes) {
      const [keys] = (await n.query(
        DATABASE,
        'SELECT COUNT(*) AS n FROM signing_keys WHERE retired_at IS NULL',
      )) as { n: number }[];
      assert.equal(Number(keys?.n), 1, `${n.address}: active signing keys`);
      const dupes = await n.query(
        DATABASE,
        'SELECT email_normalized, COUNT(*) AS n FROM users GROUP BY email_normalized HAVING n > 1',
      );
      assert.deepEqual(dupes, []);
      const ids = await n.query(
        DATABASE,
        'SELECT issuer, subject FROM user_identities GROUP BY issuer, subject HAVING COUNT(*) > 1',
      );
      assert.deepEqual(ids, []);
    }
  });

  it('never demotes the last admin when two nodes demote both admins at once', async () => {
    // A second admin; then each node demotes one of the two at the same moment.
    const e = email('admin2');
    const second = await node(0).call('POST', `${API}/users`, {
      token: adminToken,
      body: { email: e, password: PASSWORD, role: 'admin' },
    });
    assert.equal(second.status, 201, JSON.stringify(second.body));
    const secondId = String(second.body.id);
    const login = await node(1).call('POST', `${API}/auth/login`, {
      body: { username: e, password: PASSWORD },
    });
    const secondToken = String(login.body.token);
    const version = async (id: string) =>
      Number((await node(0).call('GET', `${API}/users/${id}`, { token: adminToken })).body.version);
    const [v1, v2] = [await version(adminId), await version(secondId)];
    // Each admin demotes the other, on different nodes.
    const [r1, r2] = await Promise.all([
      node(1).call('PATCH', `${API}/users/${secondId}`, {
        token: adminToken,
        body: { role: 'user', version: v2 },
      }),
      node(2).call('PATCH', `${API}/users/${adminId}`, {
        token: secondToken,
        body: { role: 'user', version: v1 },
      }),
    ]);
    const statuses = [r1.status, r2.status].sort();
    assert.ok(
      statuses.includes(200) && statuses.every((s) => [200, 401, 403, 409, 422].includes(s)),
      `one demotion wins: ${JSON.stringify([r1.body, r2.body])}`,
    );
    for (const n of cluster.nodes) {
      const [admins] = (await n.query(
        DATABASE,
        "SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND status = 'active'",
      )) as { n: number }[];
      assert.equal(Number(admins?.n), 1, `${n.address}: active admins`);
    }
    const winner = r1.status === 200 ? adminToken : secondToken;
    adminToken = winner;
  });

  it('refuses on the other nodes at the next request a session revoked on one', async () => {
    const user = pool[0] as { id: string; email: string };
    const login = await node(0).call('POST', `${API}/auth/login`, {
      body: { username: user.email, password: PASSWORD },
    });
    assert.equal(login.status, 200);
    const token = String(login.body.token);
    for (const n of nodes)
      assert.equal((await n.call('GET', `${API}/users/me`, { token })).status, 200);
    const who = await node(0).call('GET', `${API}/auth/whoami`, { token });
    const sid = String((who.body.credential as { id: string }).id);
    const del = await node(0).call('DELETE', `${API}/users/${user.id}/sessions/${sid}`, { token });
    assert.equal(del.status, 204);
    for (const n of nodes.slice(1)) {
      assert.equal((await n.call('GET', `${API}/users/me`, { token })).status, 401, n.name);
    }
  });

  it('has an audit chain that verifies on every database node', async () => {
    for (const [i, n] of cluster.nodes.entries()) {
      const rows = (await n.query(
        DATABASE,
        'SELECT seq, prev_hash AS prev, hash FROM audit_entries ORDER BY seq',
      )) as { seq: string | number; prev: string; hash: string }[];
      const [head] = (await n.query(
        DATABASE,
        'SELECT last_seq AS s, last_hash AS h FROM audit_head',
      )) as {
        s: string | number;
        h: string;
      }[];
      assert.ok(rows.length > 0);
      for (const [j, r] of rows.entries()) {
        assert.equal(String(r.seq), String(j + 1), `node ${i + 1}: seq ${String(r.seq)} in place`);
        if (j > 0)
          assert.equal(
            r.prev,
            (rows[j - 1] as { hash: string }).hash,
            `node ${i + 1}: link at ${String(r.seq)}`,
          );
      }
      assert.equal(String(head?.s), String(rows.length));
      assert.equal(head?.h, (rows[rows.length - 1] as { hash: string }).hash);
    }
    // The full verification (each entry's hash over its content) by the service's own check, on
    // every database node.
    for (const i of [0, 1, 2]) {
      const t = await createTestApp({ DATABASE_URL: cluster.url(DATABASE, i), REDIS_URL });
      try {
        const v = await t.get(AuditService).verifyChain();
        assert.equal(v.ok, true, `node ${i + 1}: ${JSON.stringify(v)}`);
        assert.ok(v.checked > 0);
      } finally {
        await t.close();
      }
    }
  });
});

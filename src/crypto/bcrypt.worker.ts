// One bcrypt worker thread (see BcryptPool): lowers its own scheduling priority, then hashes and
// compares on request with bcrypt's synchronous API (this thread has nothing else to do).
import bcrypt from 'bcrypt';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';

export type BcryptRequest =
  | { id: number; op: 'hash'; password: string; cost: number }
  | { id: number; op: 'compare'; password: string; hash: string };
export type BcryptReply = { id: number; result: string | boolean } | { id: number; error: string };

const { nice } = workerData as { nice: number };
try {
  // On Linux, pid 0 is this thread only: the event loop thread keeps its priority.
  if (nice > 0) setPriority(0, nice);
} catch {
  // Not permitted here: run at normal priority.
}

parentPort?.on('message', (m: BcryptRequest) => {
  let reply: BcryptReply;
  try {
    reply = {
      id: m.id,
      result:
        m.op === 'hash'
          ? bcrypt.hashSync(m.password, m.cost)
          : bcrypt.compareSync(m.password, m.hash),
    };
  } catch (err) {
    reply = { id: m.id, error: (err as Error).message };
  }
  parentPort?.postMessage(reply);
});

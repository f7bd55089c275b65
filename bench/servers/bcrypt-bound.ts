import bcrypt from 'bcrypt';
import { availableParallelism } from 'node:os';

/**
 * The pure-bcrypt bound: bcrypt.compare (what sign-in does) at the given cost, with the async API
 * (libuv thread pool, as in Gatehouse), kept saturated for SECONDS. Prints one JSON line.
 */
async function main(): Promise<void> {
  const cost = Number(process.env.BCRYPT_COST ?? '12');
  const seconds = Number(process.env.SECONDS ?? '5');
  const inFlight = Number(process.env.IN_FLIGHT ?? String(availableParallelism() * 2));
  const password = 'correct horse battery staple';
  const hash = await bcrypt.hash(password, cost);
  const until = Date.now() + seconds * 1000;
  let done = 0;
  const started = Date.now();
  const worker = async (): Promise<void> => {
    while (Date.now() < until) {
      if (!(await bcrypt.compare(password, hash))) throw new Error('bcrypt mismatch');
      done++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsed = (Date.now() - started) / 1000;
  process.stdout.write(
    `${JSON.stringify({ cost, inFlight, compares: done, seconds: elapsed, perSecond: done / elapsed, threadpool: process.env.UV_THREADPOOL_SIZE ?? '4 (default)' })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});

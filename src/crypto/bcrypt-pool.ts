import { Worker } from 'node:worker_threads';
import type { BcryptReply, BcryptRequest } from '#src/crypto/bcrypt.worker.js';

type Job = {
  msg: BcryptRequest;
  resolve: (v: string | boolean) => void;
  reject: (e: Error) => void;
  /** Removes the job's abort listener, once it has started or been dropped. */
  release: () => void;
};

/** What the pool is doing, for the metrics. */
export interface BcryptPoolStats {
  running: number;
  queued: number;
  /** Jobs dropped from the queue because their caller gave up (its client went away). */
  dropped: number;
}

/** A job given up by its caller (see `AbortSignal`) before a thread took it. */
export class BcryptJobDropped extends Error {
  constructor() {
    super('bcrypt job dropped: its caller gave up before a thread was free');
    this.name = 'BcryptJobDropped';
  }
}
type Slot = { worker: Worker; job: Job | null };

/**
 * bcrypt off the event loop, on `size` worker threads that run at a lower scheduling priority
 * (`nice`, Linux: per thread). At most `size` hashes run at once (the rest wait in arrival order),
 * and when the CPU is busy the event loop thread wins it from them, so a login storm uses the idle
 * CPU without making every other request wait behind bcrypt.
 */
export class BcryptPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  private dropped = 0;

  constructor(
    private readonly size: number,
    private readonly nice: number,
  ) {}

  hash(password: string, cost: number): Promise<string> {
    return this.run({ id: 0, op: 'hash', password, cost }) as Promise<string>;
  }

  /** A comparison whose `signal` aborts while it waits for a thread is dropped (BcryptJobDropped). */
  compare(password: string, hash: string, signal?: AbortSignal): Promise<boolean> {
    return this.run({ id: 0, op: 'compare', password, hash }, signal) as Promise<boolean>;
  }

  stats(): BcryptPoolStats {
    return {
      running: this.slots.filter((s) => s.job !== null).length,
      queued: this.queue.length,
      dropped: this.dropped,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    for (const job of this.queue.splice(0)) {
      job.release();
      job.reject(new Error('bcrypt pool closed'));
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private run(msg: BcryptRequest, signal?: AbortSignal): Promise<string | boolean> {
    if (this.closed) return Promise.reject(new Error('bcrypt pool closed'));
    if (signal?.aborted) {
      this.dropped++;
      return Promise.reject(new BcryptJobDropped());
    }
    return new Promise((resolve, reject) => {
      const job: Job = { msg: { ...msg, id: this.nextId++ }, resolve, reject, release: () => {} };
      if (signal) {
        // Only a job still waiting can be dropped: a thread cannot be stopped mid-hash.
        const onAbort = (): void => {
          const i = this.queue.indexOf(job);
          if (i < 0) return;
          this.queue.splice(i, 1);
          this.dropped++;
          reject(new BcryptJobDropped());
        };
        signal.addEventListener('abort', onAbort, { once: true });
        job.release = () => signal.removeEventListener('abort', onAbort);
      }
      this.queue.push(job);
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length) {
      let slot = this.slots.find((s) => s.job === null);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const job = this.queue.shift() as Job;
      job.release();
      slot.job = job;
      slot.worker.postMessage(job.msg);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(new URL('./bcrypt.worker.js', import.meta.url), {
      workerData: { nice: this.nice },
      // A worker only passes strings to the native bcrypt: a small heap is plenty, and each
      // worker's V8 would otherwise size its young generation like the main thread's.
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 24 },
    });
    worker.unref();
    const slot: Slot = { worker, job: null };
    worker.on('message', (reply: BcryptReply) => {
      const job = slot.job;
      slot.job = null;
      if (job && job.msg.id === reply.id) {
        if ('error' in reply) job.reject(new Error(reply.error));
        else job.resolve(reply.result);
      }
      this.dispatch();
    });
    const lost = (err: Error): void => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      slot.job?.reject(err);
      slot.job = null;
      if (!this.closed) this.dispatch();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`bcrypt worker exited with ${code}`)));
    this.slots.push(slot);
    return slot;
  }
}

// Liveness: a trainer that says nothing for the heartbeat timeout is stalled (stopped, hung in a collective): kill
// its whole tree now rather than wait for a checkpoint it cannot write. With data-parallel ranks, each rank reports
// its own progress, and any one rank silent that long stalls the attempt (every rank, on every node, is torn down).
import type { Logger } from 'pino';
import { silenceLimitMs } from '../../core/trainingAttempt';

const CHECK_EVERY_MS = 250; // a quarter second late at most: the bound is the heartbeat timeout, not it plus a second

export class StallWatchdog {
  private readonly stall = new AbortController();
  private startedAt = Date.now();
  /** When each rank last spoke; a rank past its last step is done and no longer watched. */
  private readonly lastHeard = new Map<number, number>();
  private readonly finished = new Set<number>();
  private readonly timer: NodeJS.Timeout;

  /** Starts watching at once; `onStall` runs once, when the trainer is killed. */
  constructor(
    private readonly opts: {
      heartbeatTimeoutSeconds: number;
      /** Data-parallel ranks expected to report (trainer.workers). */
      ranks: number;
      /** The least a starting trainer is given to say its first word. */
      startupGraceSeconds: number;
      log: Logger;
      currentStep: () => number;
      onStall: () => void;
    },
  ) {
    this.timer = setInterval(() => this.check(), CHECK_EVERY_MS);
  }

  private check(): void {
    if (this.stall.signal.aborted) return;
    const { heartbeatTimeoutSeconds, startupGraceSeconds, ranks } = this.opts;
    const now = Date.now();
    for (let rank = 0; rank < ranks; rank++) {
      if (this.finished.has(rank)) continue;
      const heard = this.lastHeard.get(rank);
      const silentMs = now - (heard ?? this.startedAt);
      if (silentMs <= silenceLimitMs(heard !== undefined, heartbeatTimeoutSeconds, startupGraceSeconds)) continue;
      const why = 'trainer stalled: killing its process tree';
      this.opts.log.warn({ silentSeconds: silentMs / 1000, rank, ranks, step: this.opts.currentStep() }, why);
      this.stall.abort();
      this.opts.onStall();
      return;
    }
  }

  /** Aborted when the trainer is to be killed. */
  get killSignal(): AbortSignal {
    return this.stall.signal;
  }

  /** A trainer is starting: it is silent until its first event, and gets the startup grace for it. */
  trainerStarting(): void {
    this.startedAt = Date.now();
    this.lastHeard.clear();
    this.finished.clear();
  }

  /** Rank `rank` said something; `done` when it has trained its last step (rank 0 then evaluates alone). */
  heard(rank = 0, done = false): void {
    this.lastHeard.set(rank, Date.now());
    if (done) this.finished.add(rank);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

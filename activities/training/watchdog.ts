// Liveness: a trainer that says nothing for the heartbeat timeout is stalled (stopped, hung in a collective):
// kill its whole tree now rather than wait for a checkpoint it cannot write.
import type { Logger } from 'pino';
import { silenceLimitMs } from '../../core/trainingAttempt';

const CHECK_EVERY_MS = 1000;

export class StallWatchdog {
  private readonly stall = new AbortController();
  private lastEvent = Date.now();
  private heardFrom = false;
  private readonly timer: NodeJS.Timeout;

  /** Starts watching at once; `onStall` runs once, when the trainer is killed. */
  constructor(
    private readonly heartbeatTimeoutSeconds: number,
    private readonly log: Logger,
    currentStep: () => number,
    onStall: () => void,
  ) {
    this.timer = setInterval(() => {
      const silentMs = Date.now() - this.lastEvent;
      if (silentMs > silenceLimitMs(this.heardFrom, this.heartbeatTimeoutSeconds) && !this.stall.signal.aborted) {
        const why = 'trainer stalled: killing its process tree';
        this.log.warn({ silentSeconds: silentMs / 1000, step: currentStep() }, why);
        this.stall.abort();
        onStall();
      }
    }, CHECK_EVERY_MS);
  }

  /** Aborted when the trainer is to be killed. */
  get killSignal(): AbortSignal {
    return this.stall.signal;
  }

  /** A trainer is starting: it is silent until its first event, and gets the startup grace for it. */
  trainerStarting(): void {
    this.lastEvent = Date.now();
    this.heardFrom = false;
  }

  /** The trainer said something. */
  heard(): void {
    this.lastEvent = Date.now();
    this.heardFrom = true;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

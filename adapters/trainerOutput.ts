// A trainer's output as the activity consumes it, wherever the trainer runs (a local process, a Ray job): its event
// lines handled one at a time in order, its last error, and the tail of its log.
import { parseTrainerLine, type TrainerEvent } from '../core/trainerProtocol';

const STDERR_TAIL_LINES = 20;

/** Runs `fn` once when `signal` aborts (now, if it already has); returns what removes it. */
export function whenAborted(signal: AbortSignal | undefined, fn: () => void): () => void {
  if (signal?.aborted) fn();
  else signal?.addEventListener('abort', fn, { once: true });
  return () => signal?.removeEventListener('abort', fn);
}

export interface TrainerOutputHandlers {
  onEvent: (event: TrainerEvent) => void | Promise<void>;
  onStderr?: (line: string) => void;
}

export class TrainerOutput {
  lastError: Extract<TrainerEvent, { event: 'error' }> | null = null;
  private readonly tail: string[] = [];
  // Events are handled one at a time, in order: a checkpoint upload finishes before the next event is seen.
  private chain = Promise.resolve();
  private handlerError: Error | undefined;

  constructor(private readonly handlers: TrainerOutputHandlers) {}

  /** A line of the event stream; anything but an event is ignored. */
  event(line: string): void {
    const event = parseTrainerLine(line);
    if (!event) return;
    if (event.event === 'error') this.lastError = event;
    this.chain = this.chain
      .then(() => this.handlers.onEvent(event))
      .catch((err: unknown) => {
        this.handlerError ??= err instanceof Error ? err : new Error(JSON.stringify(err));
      });
  }

  /** A line of the trainer's log. */
  log(line: string): void {
    this.tail.push(line);
    if (this.tail.length > STDERR_TAIL_LINES) this.tail.shift();
    this.handlers.onStderr?.(line);
  }

  get stderrTail(): string {
    return this.tail.join('\n');
  }

  /** Waits for every event to be handled; throws what a handler threw. */
  async drained(): Promise<void> {
    await this.chain;
    if (this.handlerError) throw this.handlerError;
  }
}

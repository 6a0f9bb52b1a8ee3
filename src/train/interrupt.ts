/**
 * Graceful stops on SIGTERM (Slurm's preemption, `kill`) and SIGINT
 * (Ctrl-C): the first signal asks the run to stop after the step under way,
 * save its exact position and exit with the shell's code for the signal
 * (128 + 15 = 143, 128 + 2 = 130); a second signal exits at once. Every file
 * is written atomically (temp + rename), so exiting at once still leaves the
 * last good checkpoint and metrics in place.
 */

export type StopSignal = 'SIGTERM' | 'SIGINT';

const EXIT_CODES: Record<StopSignal, number> = { SIGTERM: 143, SIGINT: 130 };

/** The run stopped on request, after saving where it was; `exitCode` is the conventional one for the signal. */
export class InterruptedError extends Error {
  readonly exitCode: number;
  constructor(
    readonly signal: StopSignal,
    message: string,
  ) {
    super(message);
    this.name = 'InterruptedError';
    this.exitCode = EXIT_CODES[signal];
  }
}

/**
 * A stop request. `listen()` connects it to the process's signals; tests
 * call `request()` directly. Training polls it between steps with
 * `await stop.poll()`, which also gives the event loop the turn in which
 * Node delivers a pending signal (a loop of resolved promises never would).
 */
export class StopRequest {
  signal: StopSignal | null = null;
  private readonly handlers = new Map<StopSignal, () => void>();

  request(signal: StopSignal): void {
    this.signal ??= signal;
  }

  /** Installs SIGTERM and SIGINT handlers: the first requests a stop, a second exits at once. */
  listen(onFirst: (signal: StopSignal) => void): this {
    for (const signal of Object.keys(EXIT_CODES) as StopSignal[]) {
      const handler = () => {
        if (this.signal !== null) {
          process.stderr.write(`\nwasmtail: second ${signal}: exiting now; the last checkpoint written stays as it was\n`);
          process.exit(EXIT_CODES[signal]);
        }
        this.request(signal);
        onFirst(signal);
      };
      this.handlers.set(signal, handler);
      process.on(signal, handler);
    }
    return this;
  }

  /** Removes the signal handlers (back to Node's default: exit at once). */
  close(): void {
    for (const [signal, handler] of this.handlers) process.removeListener(signal, handler);
    this.handlers.clear();
  }

  /** Yields to the event loop once, then says whether a stop was requested. */
  async poll(): Promise<boolean> {
    if (this.handlers.size > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    return this.signal !== null;
  }
}

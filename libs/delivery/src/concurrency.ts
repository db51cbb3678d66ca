/** A FIFO of waiters with O(1) push and shift (an array's `shift` copies the rest each time). */
class WaiterQueue {
  private items: Array<(() => void) | undefined> = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(w: () => void): void {
    this.items.push(w);
  }

  shift(): (() => void) | undefined {
    if (this.head >= this.items.length) return undefined;
    const w = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return w;
  }
}

/** A counting semaphore: `acquire` waits for a free slot, `release` hands it to the next waiter. */
export class Semaphore {
  protected active = 0;
  protected readonly waiters = new WaiterQueue();

  constructor(readonly limit: number) {}

  get available(): boolean {
    return this.active < this.limit;
  }

  /** Attempts waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  tryAcquire(): boolean {
    if (this.active >= this.limit) return false;
    this.active++;
    return true;
  }

  async acquire(): Promise<void> {
    if (this.tryAcquire()) return;
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.active--;
  }
}

/**
 * The slots of one subscription on this pod, and how fast they turn over: a
 * moving average of request durations and the time since a request to the
 * endpoint last started or finished. From those it estimates how long a new
 * attempt would wait for a slot, so a burst for a fast endpoint can queue
 * while an attempt for a slow or stalled one goes to the retries stream.
 */
export class EndpointLimiter extends Semaphore {
  private averageMs = 0;
  /** Requests on the wire (a slot holder may still wait for the pod's global limit). */
  private sending = 0;
  private lastWireEventAt = 0;

  /** A slot holder starts its HTTP request. */
  started(): void {
    this.sending++;
    this.lastWireEventAt = Date.now();
  }

  /** The HTTP request of a slot holder finished after `durationMs`. */
  finished(durationMs: number): void {
    this.sending--;
    this.lastWireEventAt = Date.now();
    this.averageMs = this.averageMs === 0 ? durationMs : this.averageMs * 0.9 + durationMs * 0.1;
  }

  /**
   * Milliseconds a new attempt would wait because of this endpoint: 0 while
   * a slot is free, or while some slot holders are not sending yet (they wait
   * for the pod's global limit: the pod is the bottleneck, not the endpoint,
   * and moving attempts elsewhere would not help). Else its place in line
   * times the time a slot takes to free up; while none has started or
   * finished for longer than the average (a hanging endpoint), that silence
   * counts instead.
   */
  /** How long the endpoint has been silent with requests on the wire (0: none on the wire). */
  silenceMs(now = Date.now()): number {
    return this.sending > 0 ? now - this.lastWireEventAt : 0;
  }

  expectedWaitMs(now = Date.now()): number {
    if (this.active < this.limit || this.sending < this.limit) return 0;
    return ((this.waiting + 1) * Math.max(this.averageMs, this.silenceMs(now))) / this.limit;
  }
}

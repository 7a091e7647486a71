/** A watched store as a schedule sees it. */
export interface ScheduledStore {
  id: number;
  intervalMs: number;
}

/**
 * Who decides when each store is probed: one process's timers (embedded store), or a pg-boss queue
 * that workers on many machines share (PostgreSQL store). `probe` never throws for a probe outcome;
 * it throws only when the outcome could not be recorded, and then the store is tried again.
 */
export interface ProbeSchedule {
  start(stores: readonly ScheduledStore[], probe: (storeId: number) => Promise<void>): Promise<void>;
  /** Stops taking new probes and waits for those in flight. */
  stop(): Promise<void>;
}

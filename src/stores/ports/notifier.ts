/** Ends one subscription; resolves once the instance stops listening, if it was the last listener of that user. */
export type Unsubscribe = () => Promise<void>;

/**
 * News for every instance, by topic: that a user's enrollment was confirmed
 * (topic: the user id; message: the enrollment id), so that open
 * WatchTotpEnrollment streams wake instead of polling; that security events
 * were relayed, so that WatchSecurityEvents streams read on. A notice only
 * wakes: the listener then reads the stores and decides from them, so a lost
 * notice (a failed publish, a dropped connection) delays a stream to its next
 * check, it never makes it decide wrongly. Each instance listens on one
 * connection, shared by all of its listeners.
 */
export interface Notifier {
  /** Tells the listeners of `topic`, on every instance. Resolves to how many instances listened. */
  publish(topic: string, message: string): Promise<number>;
  /** Calls `listener` with each message published to `topic` from when it resolves until it is unsubscribed. */
  subscribe(topic: string, listener: (message: string) => void): Promise<Unsubscribe>;
}

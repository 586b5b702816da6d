/** The time source, injected so that TOTP windows, expiry and lockout can be tested. */
export interface Clock {
  now(): Date;
  /** Calls `callback` once `ms` have passed by this clock; returns a function that cancels it. */
  after(ms: number, callback: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => new Date(),
  after: (ms, callback) => {
    const timer = setTimeout(callback, ms);
    return () => clearTimeout(timer);
  },
};

/** The randomness source, injected for the same reason. */
export type RandomBytes = (size: number) => Buffer;

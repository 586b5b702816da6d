/** The time source, injected so that TOTP windows, expiry and lockout can be tested. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** The randomness source, injected for the same reason. */
export type RandomBytes = (size: number) => Buffer;

/** One write of a store, as a write decorator sees it. */
export interface WriteCall<S> {
  readonly method: keyof S & string;
  /** Every write of a user-keyed store names its user first. */
  readonly userId: string;
  readonly args: readonly unknown[];
}

/**
 * `store` with `around` run around each of its writes (reads pass through),
 * e.g. the FerretDB per-user lock, the relay nudge. `methods` lists every
 * method of the port as a read or a write (FACTOR_STORE_METHODS,
 * OUTBOX_STORE_METHODS), so a method added to the port and not listed there
 * fails to compile instead of slipping past a decorator.
 *
 * Each call looks the method up on `store` when it is made, so whatever
 * replaces a method of `store` later (a test's fault injection) is what runs.
 */
export function decorateWrites<S extends object>(
  store: S,
  methods: Readonly<Record<keyof S, 'read' | 'write'>>,
  around: (call: WriteCall<S>, write: () => Promise<unknown>) => Promise<unknown>,
): S {
  const decorated: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const [method, kind] of Object.entries(methods) as [keyof S & string, 'read' | 'write'][]) {
    const run = (args: unknown[]) => Reflect.apply(store[method] as (...a: unknown[]) => Promise<unknown>, store, args) as Promise<unknown>;
    decorated[method] = kind === 'read' ? (...args) => run(args) : (...args) => around({ method, userId: args[0] as string, args }, () => run(args));
  }
  return decorated as S;
}

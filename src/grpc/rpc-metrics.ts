import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The grpc_type label: how the RPC streams. */
export type RpcType = 'unary' | 'server_stream';

/**
 * The service's Prometheus metrics, in one registry per service instance:
 * gRPC server metrics named as go-grpc-prometheus made standard, MFA
 * outcome counters, and Node's default process metrics.
 */
export class RpcMetrics {
  readonly registry = new Registry();
  readonly #handled: Counter<string>;
  readonly #handling: Histogram<string>;
  readonly #enrollments: Counter<string>;
  readonly #verifications: Counter<string>;
  readonly #lockouts: Counter<string>;
  readonly #lockoutsStarted: Counter<string>;
  readonly #suspensions: Counter<string>;
  readonly #replays: Counter<string>;
  readonly #byCaller: Counter<string>;
  readonly #sent: Counter<string>;
  readonly #openStreams: Gauge<string>;

  constructor() {
    const registers = [this.registry];
    const rpcLabels = ['grpc_type', 'grpc_service', 'grpc_method'];
    this.#handled = new Counter({
      name: 'grpc_server_handled_total',
      help: 'Total number of RPCs completed on the server, regardless of success or failure.',
      labelNames: [...rpcLabels, 'grpc_code'],
      registers,
    });
    this.#handling = new Histogram({
      name: 'grpc_server_handling_seconds',
      help: 'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.',
      labelNames: rpcLabels,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.#enrollments = new Counter({ name: 'mfa_enrollments_total', help: 'Enrollment steps completed, by stage.', labelNames: ['stage'], registers });
    this.#verifications = new Counter({
      name: 'mfa_verifications_total',
      help: 'Code checks, by RPC and outcome (success or the error reason).',
      labelNames: ['method', 'outcome'],
      registers,
    });
    this.#lockouts = new Counter({
      name: 'mfa_lockouts_total',
      help: 'Code checks refused by a lockout, including the failure that started it.',
      registers,
    });
    this.#lockoutsStarted = new Counter({
      name: 'mfa_lockouts_started_total',
      help: 'Lockouts started: one per MFA_MAX_FAILED_ATTEMPTS failed code checks in a row (issue 22).',
      registers,
    });
    this.#suspensions = new Counter({
      name: 'mfa_totp_suspensions_total',
      help: "Users' TOTP suspended after MFA_MAX_CONSECUTIVE_FAILURES failed code checks in a row (issue 22).",
      registers,
    });
    this.#byCaller = new Counter({
      name: 'mfa_rpcs_by_caller_total',
      help: 'Completed RPCs by calling service (the name from MFA_AUTH_TOKENS; "" when calls are not authenticated).',
      labelNames: ['caller', 'grpc_method', 'grpc_code'],
      registers,
    });
    this.#replays = new Counter({ name: 'mfa_replays_total', help: 'Code checks refused because the code was already used.', registers });
    this.#sent = new Counter({
      name: 'grpc_server_msg_sent_total',
      help: 'Total number of gRPC stream messages sent by the server.',
      labelNames: rpcLabels,
      registers,
    });
    this.#openStreams = new Gauge({
      name: 'mfa_open_streams',
      help: 'Server streams open on this instance now (at most MFA_MAX_WATCH_STREAMS).',
      labelNames: ['grpc_method'],
      registers,
    });
    collectDefaultMetrics({ register: this.registry });
  }

  /** Records one finished RPC (for a stream: when it ended). */
  handled(type: RpcType, service: string, method: string, code: string, seconds: number, caller: string): void {
    this.#byCaller.inc({ caller, grpc_method: method, grpc_code: code });
    this.#handled.inc({ grpc_type: type, grpc_service: service, grpc_method: method, grpc_code: code });
    this.#handling.observe({ grpc_type: type, grpc_service: service, grpc_method: method }, seconds);
  }

  /** Records one message sent on a server stream. */
  sent(service: string, method: string): void {
    this.#sent.inc({ grpc_type: 'server_stream', grpc_service: service, grpc_method: method });
  }

  /** A server stream of `method` opened (+1) or ended (-1). */
  streams(method: string, change: 1 | -1): void {
    this.#openStreams.inc({ grpc_method: method }, change);
  }

  enrollment(stage: 'begun' | 'confirmed' | 'cancelled'): void {
    this.#enrollments.inc({ stage });
  }

  /** A failed code check started a lockout (LockoutMeter). */
  lockoutStarted(): void {
    this.#lockoutsStarted.inc();
  }

  /** A failed code check suspended a user's TOTP (LockoutMeter). */
  totpSuspended(): void {
    this.#suspensions.inc();
  }

  /** Records a code check: `outcome` is "success" or the error reason. */
  verification(method: string, outcome: string): void {
    this.#verifications.inc({ method, outcome });
    if (outcome === 'LOCKED_OUT') this.#lockouts.inc();
    if (outcome === 'CODE_REUSED') this.#replays.inc();
  }
}

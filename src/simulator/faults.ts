import { seededRandom } from './prng.ts';

/**
 * What the simulator can do instead of answering normally:
 * - `http500`, `http503`: an HTML error page (what a proxy in front of the gateway sends);
 * - `http429`: `{"code":"too_many_requests"}` with `Retry-After`;
 * - `hang`: never answers (the client's timeout has to fire);
 * - `reset`: closes the connection without an answer;
 * - `malformed`: HTTP 200 with the charge's JSON cut in half;
 * - `pending_state`, `auth` (`authentication_failure`), `not_found` (`charge_id_not_exist`):
 *   the guide's error bodies.
 */
export const FAULT_KINDS = [
  'http500', 'http503', 'http429', 'hang', 'reset', 'malformed', 'pending_state', 'auth', 'not_found',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** A fault for one charge: `times` requests get it (default: all), later ones are answered normally. */
export interface ChargeFault {
  readonly kind: FaultKind;
  readonly times?: number;
}

export interface FaultConfig {
  /** Added before every API answer. */
  readonly latencyMs?: number;
  /** Extra uniform random latency in [0, latencyJitterMs). */
  readonly latencyJitterMs?: number;
  /** Sent with `http429` (and `http503`); default 1. */
  readonly retryAfterSeconds?: number;
  /** Keyed by any id the charge is asked by (charge id, reference order, order id). */
  readonly perCharge?: Readonly<Record<string, FaultKind | ChargeFault>>;
  /** Probability per request of each fault, e.g. `{ http500: 0.05, hang: 0.01 }` (sum ≤ 1). */
  readonly random?: Readonly<Partial<Record<FaultKind, number>>>;
}

export interface FaultPlan {
  readonly config: FaultConfig;
  /** The fault for this request, if any; `keys` are the ids the request can be known by. */
  pick(keys: readonly string[]): FaultKind | undefined;
  /** Latency for this request. */
  latency(): number;
}

export function isFaultKind(value: unknown): value is FaultKind {
  return typeof value === 'string' && (FAULT_KINDS as readonly string[]).includes(value);
}

export function createFaultPlan(config: FaultConfig, seed: number): FaultPlan {
  const random = seededRandom(seed);
  const used = new Map<string, number>();
  const randomRates = Object.entries(config.random ?? {}).filter(([, rate]) => (rate ?? 0) > 0) as [FaultKind, number][];
  const total = randomRates.reduce((sum, [, rate]) => sum + rate, 0);
  if (total > 1) throw new RangeError(`random fault rates add up to ${total}, more than 1`);
  for (const [kind] of randomRates) if (!isFaultKind(kind)) throw new RangeError(`unknown fault '${kind}'`);

  return {
    config,
    pick(keys) {
      for (const key of keys) {
        const entry = config.perCharge?.[key];
        if (entry === undefined) continue;
        const fault = typeof entry === 'string' ? { kind: entry } : entry;
        const count = used.get(key) ?? 0;
        if (fault.times !== undefined && count >= fault.times) continue;
        used.set(key, count + 1);
        return fault.kind;
      }
      if (randomRates.length === 0) return undefined;
      let draw = random();
      for (const [kind, rate] of randomRates) {
        if (draw < rate) return kind;
        draw -= rate;
      }
      return undefined;
    },
    latency() {
      const jitter = config.latencyJitterMs ? random() * config.latencyJitterMs : 0;
      return (config.latencyMs ?? 0) + jitter;
    },
  };
}

/**
 * Reads `id=kind[:times]` (per charge) or `kind=rate` (random) as given on the command line.
 */
export function parseChargeFault(spec: string): [string, ChargeFault] {
  const match = /^(.+)=([a-z_0-9]+)(?::(\d+))?$/.exec(spec);
  if (!match || !isFaultKind(match[2])) {
    throw new RangeError(`fault '${spec}' is not id=kind[:times] with kind one of ${FAULT_KINDS.join(', ')}`);
  }
  return [match[1]!, match[3] === undefined ? { kind: match[2] } : { kind: match[2], times: Number(match[3]) }];
}

export function parseRandomFault(spec: string): [FaultKind, number] {
  const match = /^([a-z_0-9]+)=([0-9.]+)$/.exec(spec);
  const rate = Number(match?.[2]);
  if (!match || !isFaultKind(match[1]) || !(rate >= 0 && rate <= 1)) {
    throw new RangeError(`random fault '${spec}' is not kind=rate with kind one of ${FAULT_KINDS.join(', ')} and 0 ≤ rate ≤ 1`);
  }
  return [match[1], rate];
}

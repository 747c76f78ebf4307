import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { todayIn } from '../dates.ts';
import type { Logger } from '../log.ts';
import { createChargeStore, readJsonLines, type ChargeStore, type Family, type StoredCharge } from './charge-store.ts';
import { createFaultPlan, type FaultConfig, type FaultKind, type FaultPlan } from './faults.ts';
import { createNotifySender, forgedNotifyBody, notifyBodyOf, type NotifyReport } from './notify-sender.ts';
import { createRequestStats, type SimulatorStats } from './request-stats.ts';

export interface SimulatorOptions {
  /** 0 (default): any free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** The only `x-api-key` accepted. */
  readonly secretKey: string;
  /** Full inquiry answers (objects), served after those of `dataFile`. */
  readonly charges?: Iterable<unknown>;
  /** JSON lines of full inquiry answers, each served exactly as written. */
  readonly dataFile?: string;
  readonly faults?: FaultConfig;
  /** Seed of the random faults and latency jitter; default 1. */
  readonly seed?: number;
  readonly logger?: Logger;
  /** The simulator's clock (`YYYY-MM-DD`), which picks each charge's record in force (`_from`); default today in Bangkok. */
  readonly today?: string;
  /**
   * Where to POST a signed WebHook Notify (guide §6.5) for each charge, once the clock reaches its
   * first record, plus one forged notification (see notify-sender.ts).
   */
  readonly notifyUrl?: string;
}

export interface Simulator {
  /** `http://127.0.0.1:PORT`, to use as `KPGW_BASE_URL`. */
  readonly url: string;
  readonly port: number;
  readonly charges: number;
  stats(): SimulatorStats;
  resetStats(): void;
  /** Replaces the fault configuration (and its per-charge counters). */
  setFaults(faults: FaultConfig): void;
  /** The simulator's clock: the gateway answers as it would on this day. */
  today(): string;
  setToday(date: string): void;
  /**
   * Starts notifying `url` now, as `notifyUrl` does at start: each charge whose payment the clock
   * has reached, and the forged one (for a receiver that could not be up first). Once only.
   */
  notifyTo(url: string): void;
  /** Once every notification sent so far is delivered or given up: how they went (all 0 without `notifyUrl`). */
  notifications(): Promise<NotifyReport>;
  /** Stops listening and drops open connections, hanging requests included. */
  close(): Promise<void>;
}

const CARD_PATH = /^\/card\/v2\/charge\/([^/]+)(?:\/([^/]*))?\/?$/;
const QR_PATH = /^\/qr\/v2\/qr\/([^/]+)\/?$/;

/**
 * A local K-Payment Gateway (docs/reference.md §1.15): the two inquiry endpoints with the guide's answers and
 * error bodies, `x-api-key` checking, switchable faults, and `GET /__stats` so tests can check the
 * client's limits where they matter, at the receiving end. `POST /__faults` (a FaultConfig as
 * JSON) switches faults, `DELETE /__stats` resets the counters and `POST /__clock`
 * (`{"today": "YYYY-MM-DD"}`) moves the clock of a running simulator (see `_from` in charge-store.ts).
 *
 * The guide publishes error bodies but no HTTP statuses; the ones used here (401, 404, 400) are
 * the conventional choices, and the client decides by the body's `code`, not the status.
 */
export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  if (!options.secretKey) throw new Error('the simulator needs a secret key to check x-api-key against');
  const fromFile = options.dataFile ? await readJsonLines(options.dataFile) : { records: [], texts: [] };
  const store: ChargeStore = createChargeStore([...fromFile.records, ...(options.charges ?? [])], fromFile.texts);
  const seed = options.seed ?? 1;
  let plan: FaultPlan = createFaultPlan(options.faults ?? {}, seed);
  const stats = createRequestStats();
  const log = options.logger?.child({ component: 'kpgw-simulator' });
  const pending = new Set<NodeJS.Timeout>();
  let today = checkedDate(options.today ?? todayIn('Asia/Bangkok'));
  let notifier: ReturnType<typeof createNotifySender> | undefined;
  const notified = new Set<string>();
  /** Notifies each charge whose payment the clock has reached, once. */
  const notifyDue = () => {
    if (!notifier) return;
    for (const { from, charge } of store.firstRecords()) {
      if (from > today || notified.has(charge.id)) continue;
      notified.add(charge.id);
      notifier.send(notifyBodyOf(JSON.parse(charge.body) as Record<string, unknown>, charge.family, options.secretKey));
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    if (url.pathname.startsWith('/__')) return control(req, res, url.pathname);
    const done = stats.arrived();
    res.on('close', done);
    const answer = (label: string, status: number, body: string, headers: Record<string, string> = {}) => {
      stats.outcome(label);
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(body);
    };

    const route = matchRoute(url.pathname);
    if (!route) return answer('404', 404, errorBody('not_found', `no such endpoint: ${req.method} ${url.pathname}`));
    if (req.method !== 'GET') return answer('405', 405, errorBody('method_not_allowed', 'inquiry is GET'), { allow: 'GET' });

    const delay = plan.latency();
    if (delay > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          pending.delete(timer);
          resolve();
        }, delay);
        pending.add(timer);
      });
    }
    if (res.destroyed) return;

    if (req.headers['x-api-key'] !== options.secretKey) {
      return answer('401', 401, errorBody('authentication_failure', 'Authentication failure'));
    }
    const charge = store.find(route.family, route.key, today);
    const fault = plan.pick(charge ? [route.key, ...store.keysOf(charge)] : [route.key]);
    log?.debug({ path: url.pathname, fault }, 'request');
    if (fault) return applyFault(fault, charge, req, res, answer);

    if (!charge) return answer('404', 404, errorBody('charge_id_not_exist', 'Charge id does not exist'));
    if (route.date !== undefined) {
      // §9: a badly formatted date and one that is not the charge's are different errors.
      if (!/^\d{8}$/.test(route.date)) return answer('400', 400, errorBody('transaction_date_invalid', 'Transaction date is invalid'));
      if (route.date !== charge.createdDate) return answer('400', 400, errorBody('invalid_parameter', 'Invalid parameter'));
    }
    return answer('200', 200, charge.body);
  };

  const applyFault = (
    fault: FaultKind,
    charge: StoredCharge | undefined,
    req: IncomingMessage,
    res: ServerResponse,
    answer: (label: string, status: number, body: string, headers?: Record<string, string>) => void,
  ): void => {
    const label = `fault:${fault}`;
    const retryAfter = String(plan.config.retryAfterSeconds ?? 1);
    switch (fault) {
      case 'http500':
        return answer(label, 500, '<html><body><h1>500 Internal Server Error</h1></body></html>', { 'content-type': 'text/html' });
      case 'http503':
        return answer(label, 503, '<html><body><h1>503 Service Unavailable</h1></body></html>', { 'content-type': 'text/html', 'retry-after': retryAfter });
      case 'http429':
        return answer(label, 429, errorBody('too_many_requests', 'Too many requests'), { 'retry-after': retryAfter });
      case 'pending_state':
        return answer(label, 400, errorBody('pending_state', 'Transaction is pending, please try again in 15 minutes'));
      case 'auth':
        return answer(label, 401, errorBody('authentication_failure', 'Authentication failure'));
      case 'not_found':
        return answer(label, 404, errorBody('charge_id_not_exist', 'Charge id does not exist'));
      case 'malformed': {
        const body = charge?.body ?? '{"id":"chrg_test_malformed","amount":1}';
        return answer(label, 200, body.slice(0, Math.max(1, Math.floor(body.length / 2))));
      }
      case 'reset':
        stats.outcome(label);
        req.socket.destroy();
        return;
      case 'hang':
        // Never answer: the client's timeout has to give up. close() drops the connection.
        stats.outcome(label);
        return;
    }
  };

  const control = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(value));
    };
    if (path === '/__stats' && req.method === 'GET') return json(200, stats.snapshot());
    if (path === '/__stats' && req.method === 'DELETE') {
      stats.reset();
      return json(200, { ok: true });
    }
    if (path === '/__clock' && req.method === 'GET') return json(200, { today });
    if (path === '/__clock' && req.method === 'POST') {
      try {
        today = checkedDate((JSON.parse(await readBody(req)) as { today?: unknown }).today);
        notifyDue();
        return json(200, { today });
      } catch (error) {
        return json(400, { object: 'error', code: 'invalid_parameter', message: String(error) });
      }
    }
    if (path === '/__faults' && req.method === 'POST') {
      try {
        plan = createFaultPlan(JSON.parse(await readBody(req)) as FaultConfig, seed);
        return json(200, { ok: true });
      } catch (error) {
        return json(400, { object: 'error', code: 'invalid_parameter', message: String(error) });
      }
    }
    return json(404, { object: 'error', code: 'not_found', message: `no such endpoint: ${req.method} ${path}` });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log?.error({ err: error }, 'simulator request failed');
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(errorBody('internal_error', 'simulator error'));
      }
    });
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const notifyTo = (url: string) => {
    if (notifier) throw new Error('the simulator already sends its notifications');
    notifier = createNotifySender(url, log);
    notifyDue();
    notifier.send(forgedNotifyBody(today));
  };
  if (options.notifyUrl) notifyTo(options.notifyUrl);

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    charges: store.size,
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    setFaults: (faults) => {
      plan = createFaultPlan(faults, seed);
    },
    today: () => today,
    setToday: (date) => {
      today = checkedDate(date);
      notifyDue();
    },
    notifyTo,
    notifications: async () => (notifier ? notifier.settled() : { sent: 0, delivered: 0, failed: 0 }),
    close: async () => {
      await notifier?.close();
      await new Promise<void>((resolve, reject) => {
        for (const timer of pending) clearTimeout(timer);
        pending.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

function matchRoute(pathname: string): { family: Family; key: string; date?: string } | undefined {
  const card = CARD_PATH.exec(pathname);
  if (card) {
    const key = safeDecode(card[1]!);
    // A trailing slash is not a date segment.
    return card[2] ? { family: 'card', key, date: card[2] } : { family: 'card', key };
  }
  const qr = QR_PATH.exec(pathname);
  if (qr) return { family: 'qr', key: safeDecode(qr[1]!) };
  return undefined;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function checkedDate(value: unknown): string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new RangeError(`the simulator's clock needs a YYYY-MM-DD date, got ${JSON.stringify(value)}`);
  return value;
}

/** The guide's error body (§9). */
export function errorBody(code: string, message: string): string {
  return JSON.stringify({ object: 'error', code, message });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

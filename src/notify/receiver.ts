import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import type { Logger } from '../log.ts';
import { commitQueue, type CommitQueue } from './commit-queue.ts';
import { discardBody, readBody } from './http-body.ts';
import { MAX_NOTIFY_BYTES, readNotification, type Notification } from './notification.ts';
import type { StoreOutcome } from './notification-store.ts';
import type { NotifyTarget } from './notify-target.ts';

export interface ReceiverOptions {
  readonly host: string;
  /** 0: any free port. */
  readonly port: number;
  /**
   * Single merchant: `POST /notify`. With a merchants file: `POST /notify/{mid}`, one target per
   * merchant, by its mid.
   */
  readonly targets: { readonly single: NotifyTarget } | { readonly byMid: ReadonlyMap<string, NotifyTarget> };
  readonly logger: Logger;
  /** Notifications being read or waiting for their commit; past it requests get 503 (default 512). */
  readonly maxInFlight?: number;
  /** Most notifications one transaction stores (default 500). */
  readonly maxBatch?: number;
  /** Transactions writing at once, per merchant (default 2). */
  readonly writers?: number;
}

export interface Receiver {
  readonly url: string;
  readonly port: number;
  /**
   * Stops accepting, answers what is in flight (each `200` after its commit), then closes every
   * connection. Requests that arrive on open connections meanwhile get `503` with `Retry-After`.
   */
  close(): Promise<void>;
}

/** The client is told to try again after this many seconds (KBank retries a notification that was not answered 200). */
const RETRY_AFTER_SECONDS = 5;
/** At most this much of a body that is refused unread is read and thrown away, so the answer reaches the client; past it, the connection is closed. */
const DISCARD_CAP = 1024 * 1024;
const HEALTH_TIMEOUT_MS = 2_000;

/**
 * The WebHook Notify receiver (docs/reference.md §1.11): `200` with no body once
 * the notification is committed; `400` for a body that is not a JSON object, `413` past 64 KiB,
 * `404` for a path or merchant it does not serve, nothing stored for any of them; `503` with
 * `Retry-After` when more than `maxInFlight` notifications are in hand (bounded memory: at most
 * that many bodies of at most 64 KiB) or the database fails. `GET /health` says whether the
 * database answers. Plain `node:http`: three routes, a body read by hand to keep its exact bytes
 * and its limit, and no dependency to add.
 */
export async function startReceiver(options: ReceiverOptions): Promise<Receiver> {
  const log = options.logger.child({ component: 'notify-receiver' });
  const maxInFlight = options.maxInFlight ?? 512;
  const queues = new Map<NotifyTarget, CommitQueue<Notification, StoreOutcome>>();
  const queueOf = (target: NotifyTarget) => {
    let queue = queues.get(target);
    if (!queue) queues.set(target, (queue = commitQueue((batch) => target.store(batch), { maxBatch: options.maxBatch ?? 500, writers: options.writers ?? 2 })));
    return queue;
  };
  const anyTarget = 'single' in options.targets ? options.targets.single : [...options.targets.byMid.values()][0];
  let inFlight = 0;
  let shedding: { since: number; count: number } | undefined;
  let closing = false;
  /** The database failing to store: said once when it starts and once when it ends, not per request. */
  let storeFailing = false;
  let idle: (() => void) | undefined;

  const routeOf = (path: string): NotifyTarget | 'not_found' => {
    const { targets } = options;
    if ('single' in targets) return path === '/notify' || path === '/notify/' ? targets.single : 'not_found';
    const mid = /^\/notify\/([^/]+)\/?$/.exec(path)?.[1];
    return (mid !== undefined && targets.byMid.get(safeDecode(mid))) || 'not_found';
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, line: RequestLine): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/health' && (req.method === 'GET' || req.method === 'HEAD')) return health(req, res, line);
    const target = routeOf(path);
    if (target === 'not_found') return refuse(req, res, line, 404, 'no such endpoint or merchant');
    if (req.method !== 'POST') return refuse(req, res, line, 405, 'notifications are POSTed', { allow: 'POST' });
    if (target.mid) line.mid = target.mid;
    if (closing) return refuse(req, res, line, 503, 'shutting down', { 'retry-after': String(RETRY_AFTER_SECONDS) });
    if (inFlight >= maxInFlight) {
      shed();
      return refuse(req, res, line, 503, 'too many notifications in hand; try again', { 'retry-after': String(RETRY_AFTER_SECONDS) }, 'debug');
    }
    inFlight += 1;
    try {
      const at = new Date();
      const read = await readBody(req, MAX_NOTIFY_BYTES);
      if (read.kind === 'gone') return void (line.status = 'gone');
      if (read.kind === 'too_large') return refuse(req, res, line, 413, `body is larger than ${MAX_NOTIFY_BYTES} bytes`);
      const result = readNotification(read.bytes, target.secretKey, { at, via: 'http', from: peerOf(req) });
      if (!result.ok) return refuse(req, res, line, 400, result.reason);
      const { row } = result.notification;
      Object.assign(line, { chargeId: row.charge_id ?? undefined, checksum: row.checksum_verdict });
      try {
        line.outcome = await queueOf(target).add(result.notification);
      } catch (error) {
        if (!storeFailing) log.error({ err: error, mid: target.mid || undefined }, 'cannot store notifications: answering 503 so that KBank sends them again');
        storeFailing = true;
        return refuse(req, res, line, 503, 'could not store the notification; try again', { 'retry-after': String(RETRY_AFTER_SECONDS) });
      }
      if (storeFailing) log.info('storing notifications again');
      storeFailing = false;
      answer(res, line, 200);
    } finally {
      inFlight -= 1;
      if (shedding && inFlight < maxInFlight / 2) {
        log.info({ shed: shedding.count, seconds: Math.round((performance.now() - shedding.since) / 1000) }, 'load shedding over: accepting notifications again');
        shedding = undefined;
      }
      if (inFlight === 0) idle?.();
    }
  };

  const shed = () => {
    if (!shedding) {
      shedding = { since: performance.now(), count: 0 };
      log.warn({ inFlight, maxInFlight, retryAfterSeconds: RETRY_AFTER_SECONDS }, `shedding load: ${maxInFlight} notifications in hand; answering 503 with Retry-After until some are stored`);
    }
    shedding.count += 1;
  };

  const health = async (req: IncomingMessage, res: ServerResponse, line: RequestLine) => {
    line.level = 'debug';
    const database = await Promise.race([
      sql`SELECT 1`.execute(anyTarget!.db).then(() => 'up' as const, () => 'down' as const),
      new Promise<'down'>((resolve) => setTimeout(resolve, HEALTH_TIMEOUT_MS, 'down').unref()),
    ]);
    const ok = database === 'up' && !closing;
    const body = { status: closing ? 'stopping' : ok ? 'ok' : 'unavailable', database, inFlight };
    return refuse(req, res, line, ok ? 200 : 503, body);
  };

  /** Answers a request whose body may be unread (see discardBody). */
  const refuse = async (
    req: IncomingMessage,
    res: ServerResponse,
    line: RequestLine,
    status: number,
    body: string | object,
    headers: Record<string, string> = {},
    level?: RequestLine['level'],
  ) => {
    if (level) line.level = level;
    if (typeof body === 'string') line.reason = body;
    const read = await discardBody(req, DISCARD_CAP);
    const json = JSON.stringify(typeof body === 'string' ? { error: body } : body);
    answer(res, line, status, json, read ? headers : { ...headers, connection: 'close' });
    if (!read) res.once('finish', () => req.socket.destroy());
  };

  const answer = (res: ServerResponse, line: RequestLine, status: number, body?: string, headers: Record<string, string> = {}) => {
    line.status = status;
    if (res.destroyed) return;
    const head: Record<string, string> = closing ? { ...headers, connection: 'close' } : headers;
    if (body === undefined) res.writeHead(status, { ...head, 'content-length': '0' }).end();
    else res.writeHead(status, { ...head, 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) }).end(body);
  };

  const server = createServer((req, res) => {
    const started = performance.now();
    const line: RequestLine = { request: `${req.method} ${req.url}`, status: 0 };
    handle(req, res, line)
      .catch((error: unknown) => {
        log.error({ err: error }, 'notification request failed');
        line.status = 500;
        if (!res.headersSent && !res.destroyed) res.writeHead(500, { 'content-length': '0', connection: 'close' }).end();
      })
      .finally(() => {
        const { level = 'info', ...fields } = line;
        log[level]({ ...fields, ms: Math.round((performance.now() - started) * 10) / 10 }, lineMessage(line));
      });
  });
  // A client that dribbles its headers or body is cut off rather than holding a slot.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close() {
      closed ??= (async () => {
        closing = true;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (inFlight > 0) await new Promise<void>((resolve) => (idle = resolve));
        server.closeAllConnections();
        await stopped;
      })();
      return closed;
    },
  };
}

/** What one request's log line says. */
interface RequestLine {
  request: string;
  /** The HTTP status answered; `gone` when the client left before its body ended. */
  status: number | 'gone';
  level?: 'info' | 'debug';
  mid?: string;
  chargeId?: string;
  checksum?: string;
  outcome?: StoreOutcome;
  reason?: string;
}

function lineMessage(line: RequestLine): string {
  if (line.status === 'gone') return 'client left before sending its whole body; nothing stored';
  if (line.outcome === 'stored') return line.checksum === 'valid' ? 'notification stored' : 'notification stored; its checksum FAILS (kept as evidence, not trusted)';
  if (line.outcome === 'repeat') return 'notification repeated; stored before';
  if (line.outcome === 'counted') return 'notification with a failing checksum counted, not stored (hourly bound)';
  return line.reason ? `${line.status}: ${line.reason}` : String(line.status);
}

/** The peer, and the X-Forwarded-For a reverse proxy added (as given: only the proxy's own entry can be trusted). */
function peerOf(req: IncomingMessage): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  const forwarded = req.headers['x-forwarded-for'];
  return forwarded ? `${peer} (x-forwarded-for: ${String(forwarded).slice(0, 200)})` : peer;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

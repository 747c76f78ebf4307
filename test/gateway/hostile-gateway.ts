import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/** One request as it arrived. */
export interface RecordedRequest {
  /** Arrival, ms (performance clock). */
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}

/** What the server does with one request. */
export type Behaviour = (request: IncomingMessage, response: ServerResponse) => void;

export interface HostileServer {
  /** `http://HOST:PORT`. */
  readonly url: string;
  readonly host: string;
  /** Every request received, in order, with its headers. */
  readonly requests: RecordedRequest[];
  behaviour: Behaviour;
  /** The most requests that arrived within any `windowMs` (default 1,000 ms). */
  maxInAnyWindow(windowMs?: number): number;
  close(): Promise<void>;
}

/**
 * A small gateway that misbehaves on purpose (issue 10): it redirects, loops, answers about
 * other charges, sends absurd numbers, hangs or drips. Listens on a loopback address of its own,
 * so a second one on 127.0.0.2 can record whether anything leaked to it.
 */
export async function startHostileServer(host: string, behaviour: Behaviour = answerText(404, '')): Promise<HostileServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    requests.push({ at: performance.now(), method: request.method ?? '', path: request.url ?? '', headers: request.headers });
    self.behaviour(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const self: HostileServer = {
    url: `http://${host}:${port}`,
    host,
    requests,
    behaviour,
    maxInAnyWindow(windowMs = 1000) {
      const times = requests.map((r) => r.at).sort((a, b) => a - b);
      let most = 0;
      for (let first = 0, last = 0; last < times.length; last += 1) {
        while (times[last]! - times[first]! >= windowMs) first += 1;
        most = Math.max(most, last - first + 1);
      }
      return most;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return self;
}

/** Answers `status` with `body` exactly as given (so absurd numbers reach the client as text). */
export function answerText(status: number, body: string, headers: Record<string, string> = {}): Behaviour {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(body);
  };
}

/** A redirect to `location(request)`. */
export function redirect(status: number, location: (path: string) => string): Behaviour {
  return (request, response) => {
    response.writeHead(status, { location: location(request.url ?? '/') });
    response.end();
  };
}

/** Never answers: the client's timeout must fire. */
export const hang: Behaviour = () => {};

/** Sends headers at once, then one byte of `body` every `everyMs`, far beyond any timeout. */
export function drip(body: string, everyMs = 200): Behaviour {
  return (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    let sent = 0;
    const timer = setInterval(() => {
      if (sent >= body.length || response.destroyed) {
        clearInterval(timer);
        if (!response.destroyed) response.end();
        return;
      }
      response.write(body[sent]!);
      sent += 1;
    }, everyMs);
    // The client gives up (or close() drops the connection): stop dripping.
    response.on('close', () => clearInterval(timer));
  };
}

/** A loopback port nothing listens on: bound, then released. */
export async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A 200 whose body is `bytes` long: a JSON object opening then spaces, written in 64 KiB pieces
 * as fast as the client takes them (`declared`: with a Content-Length, else chunked), never held
 * whole; it stops when the client hangs up.
 */
export function flood(bytes: number, options: { declared?: boolean } = {}): Behaviour {
  const piece = Buffer.alloc(64 * 1024, 0x20);
  return (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json', ...(options.declared ? { 'content-length': String(bytes) } : {}) });
    response.on('error', () => undefined);
    let sent = 0;
    const more = () => {
      while (sent < bytes && !response.destroyed) {
        const part = sent === 0 ? Buffer.from('{"id":"') : piece.subarray(0, Math.min(piece.length, bytes - sent));
        sent += part.length;
        if (!response.write(part)) return void response.once('drain', more);
      }
      if (!response.destroyed) response.end();
    };
    more();
  };
}

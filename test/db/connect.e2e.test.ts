import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { humanLines, runCli } from '../helpers/cli.ts';

/**
 * A local TCP server standing in for PostgreSQL: it answers the startup message with `answer`
 * (or never, when there is none).
 */
async function fakePostgres(answer?: Buffer): Promise<{ port: number; server: Server; received: Buffer[] }> {
  const sockets = new Set<Socket>();
  const received: Buffer[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('data', (data) => received.push(data));
    socket.once('data', () => answer && socket.write(answer));
  });
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('no port');
  servers.push({ server, sockets });
  return { port: address.port, server, received };
}
const servers: { server: Server; sockets: Set<Socket> }[] = [];
afterEach(async () => {
  for (const { server, sockets } of servers.splice(0)) {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** AuthenticationMD5Password, as a server configured for md5 sends it. */
function md5PasswordRequest(): Buffer {
  const message = Buffer.alloc(13);
  message.write('R', 0);
  message.writeInt32BE(12, 1);
  message.writeInt32BE(5, 5);
  message.write('salt', 9);
  return message;
}

describe('a database that does not answer as it should', () => {
  it('one that accepts and never answers: exit 3 within the connect timeout, one line without the password', async () => {
    const { port } = await fakePostgres();
    const result = await runCli(['migrate'], { env: { DATABASE_URL: `postgres://alice:hunter2@127.0.0.1:${port}/books`, PGCONNECT_TIMEOUT: '2' } });
    expect(result.code).toBe(3);
    expect(humanLines(result.stderr)).toEqual([`kpgw-recon: database postgres://alice@127.0.0.1:${port}/books is unreachable: timeout expired`]);
    expect(result.stderr).not.toContain('hunter2');
  });

  it('one that asks for a password none was given for: exit 3 with one line', async () => {
    const { port } = await fakePostgres(md5PasswordRequest());
    const result = await runCli(['migrate'], { env: { DATABASE_URL: `postgres://alice@127.0.0.1:${port}/books`, PGPASSWORD: undefined, PGCONNECT_TIMEOUT: '60' } });
    expect(result.code).toBe(3);
    expect(humanLines(result.stderr)).toEqual([`kpgw-recon: database postgres://alice@127.0.0.1:${port}/books asks for a password and none was given (put it in DATABASE_URL or ~/.pgpass)`]);
  });

  it('one that asks for a password the password file has: it is sent (then the silent server times out)', async () => {
    const { port, received } = await fakePostgres(md5PasswordRequest());
    const dir = await mkdtemp(join(tmpdir(), 'kpgw-pgpass-'));
    try {
      const file = join(dir, 'pgpass');
      await writeFile(file, `127.0.0.1:${port}:books:alice:from-the-file\n`, { mode: 0o600 });
      const result = await runCli(['migrate'], { env: { DATABASE_URL: `postgres://alice@127.0.0.1:${port}/books`, PGPASSWORD: undefined, PGPASSFILE: file, PGCONNECT_TIMEOUT: '2' } });
      expect(result.code).toBe(3);
      expect(humanLines(result.stderr)).toEqual([`kpgw-recon: database postgres://alice@127.0.0.1:${port}/books is unreachable: timeout expired`]);
      // After its startup message (length first), the client answered the md5 request with a
      // password message ('p').
      const all = Buffer.concat(received);
      expect(String.fromCharCode(all[all.readInt32BE(0)]!)).toBe('p');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

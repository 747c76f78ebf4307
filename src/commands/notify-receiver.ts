import { EXIT, ReconError } from '../errors.ts';
import { openReceiverTargets } from '../notify/open-targets.ts';
import { startReceiver } from '../notify/receiver.ts';
import type { Command } from './command.ts';
import { parseFlags, wholeNumberFlag } from './command.ts';

export const notifyReceiverCommand: Command = {
  name: 'notify-receiver',
  help: `Usage: kpgw-recon notify-receiver [--host H] [--port N]

Receives KBank's WebHook Notify calls and stores each one in PostgreSQL, exactly as received,
with the time it came and whether its checksum verifies with the merchant's secret key. Runs
until SIGTERM or SIGINT, then stops accepting, stores and answers what is in flight, and exits 0.
Put it behind the shop's HTTPS reverse proxy; see docs/reference.md, notify-receiver.

  POST /notify          one merchant (KPGW_SECRET_KEY verifies)
  POST /notify/{mid}    with a merchants file (RECON_MERCHANTS): each merchant's key_env verifies
  GET  /health          200 when the database answers, else 503 (for the reverse proxy)

Answers: 200 (no body) once the notification is committed, a repeat included; 400 a body that
is not a JSON object; 413 a body over 64 KiB; 404 an unknown path or merchant; 503 with
Retry-After when it has too many notifications in hand, the database fails or it is stopping
(KBank sends the notification again). Only 200 means stored.

Flags:
  --host H   address to listen on (default 127.0.0.1)
  --port N   port (default 8788; 0 = any free port)

Environment:
  KPGW_SECRET_KEY   the merchant's secret key (one merchant); never logged, echoed or stored
  RECON_MERCHANTS   the merchants file: serve POST /notify/{mid} for each of its merchants
  RECON_MERCHANT    one merchant's mid: store in its schema (without a merchants file)
  DATABASE_URL      PostgreSQL ≥ 14; unset: an embedded PostgreSQL under .data/postgres
  LOG_LEVEL         one line per request: readable on a terminal, JSON lines otherwise`,
  async run(args, { config, logger, stdout, signal }) {
    const flags = parseFlags('notify-receiver', args, { host: { type: 'string' }, port: { type: 'string' } });
    const port = wholeNumberFlag('notify-receiver', 'port', flags.port, 8788, { min: 0, max: 65_535 });
    const host = flags.host ?? '127.0.0.1';
    const { targets, close } = await openReceiverTargets(config, logger);
    try {
      const receiver = await startReceiver({ host, port, targets, logger }).catch((error: unknown) => {
        throw new ReconError('CONFIG', `notify-receiver: cannot listen on ${host}:${port}: ${(error as Error).message}`, { cause: error });
      });
      const paths = 'single' in targets ? '/notify' : [...targets.byMid.keys()].map((mid) => `/notify/${mid}`).join(', ');
      stdout.write(`notify-receiver listening on ${receiver.url} (POST ${paths}; GET /health)\n`);
      await new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await receiver.close();
      logger.info('notify-receiver stopped; every notification answered 200 is stored');
      return EXIT.ok;
    } finally {
      await close();
    }
  },
};

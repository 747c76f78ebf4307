import { readFile } from 'node:fs/promises';
import { EXIT, ReconError } from '../errors.ts';
import { checkInputFile } from '../input-file.ts';
import { formatCount } from '../report/human-summary.ts';
import { parseChargeFault, parseRandomFault, FAULT_KINDS, type ChargeFault, type FaultConfig, type FaultKind } from '../simulator/faults.ts';
import { startSimulator } from '../simulator/server.ts';
import { syntheticCharges } from '../simulator/synthetic.ts';
import type { Command } from './command.ts';
import { isoDateFlag, parseFlags } from './command.ts';

/** Accepted when KPGW_SECRET_KEY is not set: a test key, fine to print. */
export const SIMULATOR_DEFAULT_KEY = 'skey_test_simulator';

export const simulatorCommand: Command = {
  name: 'simulator',
  help: `Usage: kpgw-recon simulator [--port N] [--data FILE] [fault flags]

A local K-Payment Gateway: GET /card/v2/charge/{id}[/{YYYYMMDD}] and GET /qr/v2/qr/{id} with the
guide's answers and error bodies. Prints the URL it listens on (use it as KPGW_BASE_URL) and runs
until interrupted. GET /__stats reports requests per second; POST /__faults (JSON) switches faults;
DELETE /__stats resets the counters; POST /__clock {"today": "YYYY-MM-DD"} moves the clock.

Flags:
  --port N               port on 127.0.0.1 (default 8787; 0 = any free port)
  --host ADDR            address to listen on (default 127.0.0.1)
  --data FILE            JSON lines, one full inquiry answer per line; a record may carry
                         "_family": "card" | "qr" to choose its endpoint (default: QR when its
                         source is a QR/ThaiQR/WeChat source, else card), and "_from":
                         "YYYY-MM-DD" to be answered only from that day on (later records of a
                         charge replace earlier ones as the clock reaches them)
  --today D              the simulator's clock (default: today in Asia/Bangkok)
  --synthetic N          also serve N generated settled card charges (chrg_test_sim_00000001…, SIM1…)
  --latency MS           delay before every answer (default 0)
  --latency-jitter MS    extra random delay, uniform in [0, MS)
  --fault ID=KIND[:N]    answer requests for this charge id / reference order / order id with a
                         fault, the first N times only if N is given (repeatable)
  --random-fault KIND=P  give each request this fault with probability P (repeatable)
  --retry-after S        Retry-After seconds sent with http429 and http503 (default 1)
  --faults FILE          a JSON fault configuration (latencyMs, perCharge, random, …)
  --seed N               seed of the random faults and jitter (default 1)
  --notify-url URL       POST a WebHook Notify, signed with the key, for each charge once the
                         clock reaches its payment (card, QR and Alipay shapes), and one forged
                         notification (a bad checksum), to URL: e.g. a notify-receiver's
                         http://127.0.0.1:8788/notify
Fault kinds: ${FAULT_KINDS.join(', ')}

Environment:
  KPGW_SECRET_KEY        the x-api-key to accept (default: ${SIMULATOR_DEFAULT_KEY})
  LOG_LEVEL              pino level; debug logs every request`,
  async run(args, { config, logger, stdout, signal }) {
    const flags = parseFlags('simulator', args, {
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      synthetic: { type: 'string' },
      latency: { type: 'string' },
      'latency-jitter': { type: 'string' },
      fault: { type: 'string', multiple: true },
      'random-fault': { type: 'string', multiple: true },
      'retry-after': { type: 'string' },
      faults: { type: 'string' },
      seed: { type: 'string' },
      today: { type: 'string' },
      'notify-url': { type: 'string' },
    });
    const port = wholeNumber('port', flags.port, 8787);
    if (flags.data !== undefined) await checkInputFile(flags.data, 'the charges file');
    if (flags.faults !== undefined) await checkInputFile(flags.faults, 'the faults file');
    const faults = await faultConfig(flags);
    const synthetic = wholeNumber('synthetic', flags.synthetic, 0);

    const secretKey = config.kpgw.secretKey || SIMULATOR_DEFAULT_KEY;
    const simulator = await startSimulator({
      port,
      host: flags.host ?? '127.0.0.1',
      secretKey,
      ...(flags.data ? { dataFile: flags.data } : {}),
      charges: synthetic > 0 ? syntheticCharges(synthetic) : [],
      faults,
      seed: wholeNumber('seed', flags.seed, 1),
      ...(flags.today ? { today: isoDateFlag('simulator', 'today', flags.today)! } : {}),
      ...(flags['notify-url'] ? { notifyUrl: notifyUrlFlag(flags['notify-url']) } : {}),
      logger,
    }).catch((error: unknown) => {
      // A bad data file or a port in use: the user's to fix.
      throw new ReconError('INPUT', `simulator: ${error instanceof Error ? error.message : String(error)}`);
    });
    try {
      const key = config.kpgw.secretKey ? 'the KPGW_SECRET_KEY from the environment' : SIMULATOR_DEFAULT_KEY;
      stdout.write(`K-Payment Gateway simulator listening on ${simulator.url} (${formatCount(simulator.charges)} charges; x-api-key: ${key})\n`);
      if (flags['notify-url']) {
        void simulator.notifications().then((r) => stdout.write(`notifications: ${formatCount(r.delivered)} of ${formatCount(r.sent)} answered 200 by ${flags['notify-url']}${r.failed ? ` (${formatCount(r.failed)} given up)` : ''}\n`));
      }
      await new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
      const stats = simulator.stats();
      stdout.write(`simulator stopped after ${formatCount(stats.total)} requests (max ${formatCount(stats.maxInAnyWindow)} in any second)\n`);
      return EXIT.ok;
    } finally {
      await simulator.close();
    }
  },
};

type Flags = {
  latency?: string;
  'latency-jitter'?: string;
  fault?: string[];
  'random-fault'?: string[];
  'retry-after'?: string;
  faults?: string;
};

async function faultConfig(flags: Flags): Promise<FaultConfig> {
  let base: FaultConfig = {};
  if (flags.faults) {
    try {
      base = JSON.parse(await readFile(flags.faults, 'utf8')) as FaultConfig;
    } catch (error) {
      throw new ReconError('USAGE', `simulator: --faults ${flags.faults}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const perCharge: Record<string, FaultKind | ChargeFault> = { ...base.perCharge };
  const random: Partial<Record<FaultKind, number>> = { ...base.random };
  try {
    for (const spec of flags.fault ?? []) {
      const [id, fault] = parseChargeFault(spec);
      perCharge[id] = fault;
    }
    for (const spec of flags['random-fault'] ?? []) {
      const [kind, rate] = parseRandomFault(spec);
      random[kind] = rate;
    }
  } catch (error) {
    throw new ReconError('USAGE', `simulator: ${error instanceof Error ? error.message : String(error)}`);
  }
  return {
    ...base,
    perCharge,
    random,
    latencyMs: wholeNumber('latency', flags.latency, base.latencyMs ?? 0),
    latencyJitterMs: wholeNumber('latency-jitter', flags['latency-jitter'], base.latencyJitterMs ?? 0),
    retryAfterSeconds: wholeNumber('retry-after', flags['retry-after'], base.retryAfterSeconds ?? 1),
  };
}

function notifyUrlFlag(value: string): string {
  let protocol: string | undefined;
  try {
    protocol = new URL(value).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'http:' && protocol !== 'https:') throw new ReconError('USAGE', `simulator: --notify-url '${value}' is not an http(s) URL`);
  return value;
}

function wholeNumber(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new ReconError('USAGE', `simulator: --${flag} must be a whole number, got '${value}'`);
  return n;
}

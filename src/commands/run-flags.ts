import { parseMoney, type Money } from '../money.ts';
import { ReconError } from '../errors.ts';

/** Beyond this a "tolerance" hides real differences; amounts are compared in satang. */
const MAX_TOLERANCE = '1000.00';

export function toleranceFlag(command: string, value: string | undefined): Money {
  const tolerance = parseMoney(value ?? '0.00');
  if (!tolerance || tolerance.isNegative() || tolerance.decimalPlaces() > 2 || tolerance.greaterThan(MAX_TOLERANCE)) {
    throw new ReconError('USAGE', `${command}: --tolerance '${value}' must be an amount from 0.00 to ${MAX_TOLERANCE} with at most 2 decimals, such as 0.01`);
  }
  return tolerance;
}

/** Flags every reconciling command takes. */
export const OUTPUT_FLAGS_HELP = `  --out DIR           where to write the reports (default: a folder under RECON_REPORTS_DIR)
  --tolerance AMOUNT  widen exact comparisons, e.g. 0.01 (0.00 to 1000.00; default 0.00)`;

export const AS_OF_FLAG_HELP = `  --as-of D           the day the run pretends it is, not before --from (default: today in RECON_TZ)`;

export const GATEWAY_ENVIRONMENT = `  KPGW_SECRET_KEY      merchant secret key (required), sent as x-api-key, never logged
  KPGW_BASE_URL        gateway base URL, https:// (http:// only to this machine); redirects are
                       never followed (default: the KPGW sandbox)
  KPGW_RATE_LIMIT_RPS  hard cap on requests per second (default 5)
  KPGW_CONCURRENCY     requests in flight (default 4)
  KPGW_TIMEOUT_MS      per request (default 20000)
  KPGW_MAX_RETRIES     per charge (default 5)
  DATABASE_URL         PostgreSQL ≥ 14; unset: embedded under .data/postgres
  PGCONNECT_TIMEOUT    seconds to wait for PostgreSQL to accept a connection (default 10)
  RECON_TZ             time zone of report dates (default Asia/Bangkok)
  RECON_REPORTS_DIR    where runs write without --out (default ./reports)
  LOG_LEVEL            pino level of the JSON logs on stderr (default info)`;

export const EXIT_CODES_HELP = `Exit codes: 0 reconciled, nothing wrong; 1 error-severity mismatches or rejected rows;
2 usage or configuration error; 3 aborted (database unreachable, authentication_failure,
interrupted, another run in progress).`;

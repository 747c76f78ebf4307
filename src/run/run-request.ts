import type { Writable } from 'node:stream';
import type { Config } from '../config/config.ts';
import type { DatabaseHandle } from '../db/connection.ts';
import type { ExitCode } from '../errors.ts';
import type { InquiryClientOptions } from '../gateway/inquiry-client.ts';
import type { Logger } from '../log.ts';
import type { Money } from '../money.ts';
import type { RunJson } from '../report/run-json.ts';
import type { RunKind } from './run.table.ts';

/** Where a run's fee schedule comes from: a file given now, the last one given, or none. */
export type FeeSource = { readonly kind: 'file'; readonly file: string } | { readonly kind: 'latest' } | { readonly kind: 'none' };

/** What one run reconciles, and how: `run`, `nightly`, `rerun` and the demo each build one. */
export interface RunRequest {
  readonly kind: RunKind;
  readonly runId: string;
  readonly from: string;
  readonly to: string;
  readonly asOf: string;
  /** Ledger files or folders to ingest first; none for `rerun`, which uses what is stored. */
  readonly ledgers: readonly string[];
  readonly plans: readonly string[];
  readonly ledgerMap?: string;
  readonly fees: FeeSource;
  readonly outDir?: string;
  readonly tolerance: Money;
  /**
   * `nightly` (docs/reference.md §1.3): besides the charges the dates cover, the open charges and the
   * re-checks that are due, and at most `maxRequests` charges asked (the rest deferred).
   */
  readonly followUp?: { readonly maxRequests: number | undefined };
  /**
   * `nightly` and the demo: KBank's notifications join the charges asked, and forged ones are
   * reported (docs/reference.md §6). Every run checks the charges it
   * asks against their notifications received before the start of its as-of day; the demo, whose
   * notifications arrive as it runs, gives its own moment and grace hours.
   */
  readonly notifications?: { readonly receivedBefore?: Date; readonly graceHours?: number };
}

export interface RunEnvironment {
  readonly database: DatabaseHandle;
  readonly config: Config;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  readonly gatewayOptions?: InquiryClientOptions;
  /** Progress of the long stages, for a bar on a terminal. */
  readonly onProgress?: (stage: 'ingest' | 'inquiry', done: number, total?: number) => void;
  /**
   * Another run of the same key may start as soon as this one returns (a rerun's next day, the
   * next night in the key's worker queue, perhaps on another machine): before returning, wait
   * until this run's last requests are a rate-limit window old at the gateway, since the next
   * run's limiter knows nothing of them (docs/reference.md §1.18).
   */
  readonly restAfter?: boolean;
}

export interface RunOutcome {
  readonly exitCode: ExitCode;
  readonly run: RunJson;
  readonly reportDir: string;
  /** The human summary (for stdout). */
  readonly text: string;
}


/** Who asks for runs: a command of the CLI, or a worker's job (which prints nothing). */
export interface RunContext {
  readonly config: Config;
  readonly logger: Logger;
  /** Aborted on SIGINT/SIGTERM, or when a worker stops. */
  readonly signal: AbortSignal;
  /** The `run_id` of the first run (a command's invocation id). */
  readonly runId: string;
  /** Where each run's human summary goes; none in a worker, whose reports and logs say it all. */
  readonly stdout?: Writable;
  /** The last run rests too (see {@link RunEnvironment.restAfter}): a worker's next job of the key may follow at once. */
  readonly restAfterLast?: boolean;
}

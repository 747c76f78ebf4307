import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { parseCharge } from '../gateway/charge.ts';
import type { InquiryClient, InquiryOutcome } from '../gateway/inquiry-client.ts';
import type { Logger } from '../log.ts';
import { chargeKey, inquiryRequestFor, type ChargeCase } from '../reconcile/charge-case.ts';
import { answerOf, type GatewayAnswer } from '../reconcile/reconcile-charge.ts';
import type { Insertable } from 'kysely';
import type { GatewayInquiryTable } from '../report/run.table.ts';

export interface InquireOptions {
  db: Kysely<Database>;
  runId: string;
  /** An interrupted run of the same dates whose definite answers are reused. */
  resumeFrom: string | undefined;
  client: InquiryClient;
  asOf: string;
  signal: AbortSignal;
  logger: Logger;
  onProgress?: (done: number, total: number) => void;
}

export interface InquiryResults {
  answers: Map<ChargeCase, GatewayAnswer>;
  reused: number;
}

const FLUSH_EVERY = 200;

/**
 * Asks the gateway about every case, storing each answer as it arrives (the audit trail, and
 * what a resumed run picks up). Answers an interrupted run already stored are reused; only
 * definite ones (found, not found) are, since a failure may have been passing.
 */
export async function inquireCases(cases: readonly ChargeCase[], options: InquireOptions): Promise<InquiryResults> {
  const { db, runId, client, signal, logger } = options;
  const answers = new Map<ChargeCase, GatewayAnswer>();
  const stored = options.resumeFrom ? await reuseAnswers(db, options.resumeFrom, runId) : new Map<string, GatewayAnswer>();
  const pending: ChargeCase[] = [];
  for (const chargeCase of cases) {
    const answer = stored.get(chargeKey(chargeCase.charge));
    if (answer) answers.set(chargeCase, answer);
    else pending.push(chargeCase);
  }
  if (stored.size) logger.info({ reused: answers.size, from: options.resumeFrom }, 'reusing answers of the interrupted run');

  let buffer: Insertable<GatewayInquiryTable>[] = [];
  let writing: Promise<unknown> = Promise.resolve();
  const flush = () => {
    const rows = buffer;
    buffer = [];
    if (rows.length) writing = writing.then(() => db.insertInto('gateway_inquiries').values(rows).onConflict((oc) => oc.doNothing()).execute());
    return writing;
  };

  let done = answers.size;
  options.onProgress?.(done, cases.length);
  const asks = pending.map(async (chargeCase) => {
    const request = inquiryRequestFor(chargeCase.charge, options.asOf);
    const outcome = await client.inquire(request, signal);
    answers.set(chargeCase, answerOf(outcome));
    buffer.push(auditRow(runId, chargeKey(chargeCase.charge), outcome.path, outcome));
    if (buffer.length >= FLUSH_EVERY) void flush();
    options.onProgress?.(++done, cases.length);
  });
  try {
    await Promise.all(asks);
  } finally {
    // On an abort, let the other requests wind down and keep what did arrive: a re-run reuses it.
    await Promise.allSettled(asks);
    await flush();
  }
  // Not one HTTP answer: the run must not end as "everything unverified" (exit 0).
  const unreachable = client.unreachable();
  if (unreachable) throw unreachable;
  return { answers, reused: cases.length - pending.length };
}

function auditRow(runId: string, key: string, path: string, outcome: InquiryOutcome): Insertable<GatewayInquiryTable> {
  return {
    run_id: runId,
    charge_key: key,
    request_path: path,
    outcome: outcome.kind,
    http_status: outcome.kind === 'failed' ? null : outcome.httpStatus,
    attempts: outcome.attempts,
    failure: outcome.kind === 'failed' ? outcome.reason : null,
    body: outcome.kind === 'failed' ? null : JSON.stringify(outcome.raw),
    fetched_by_run: runId,
  };
}

/** Copies the interrupted run's definite answers into this run, and reads them back parsed. */
async function reuseAnswers(db: Kysely<Database>, fromRun: string, runId: string): Promise<Map<string, GatewayAnswer>> {
  await db
    .insertInto('gateway_inquiries')
    .columns(['run_id', 'charge_key', 'request_path', 'outcome', 'http_status', 'attempts', 'failure', 'body', 'fetched_at', 'fetched_by_run'])
    .expression((eb) =>
      eb
        .selectFrom('gateway_inquiries')
        .select((s) => [
          s.val(runId).as('run_id'),
          'charge_key',
          'request_path',
          'outcome',
          'http_status',
          'attempts',
          'failure',
          'body',
          'fetched_at',
          'fetched_by_run',
        ])
        .where('run_id', '=', fromRun)
        .where('outcome', 'in', ['found', 'not_found']),
    )
    .onConflict((oc) => oc.doNothing())
    .execute();
  const rows = await db
    .selectFrom('gateway_inquiries')
    .select(['charge_key', 'outcome', 'body'])
    .where('run_id', '=', runId)
    .execute();
  const answers = new Map<string, GatewayAnswer>();
  for (const row of rows) {
    if (row.outcome === 'not_found') answers.set(row.charge_key, { kind: 'not_found' });
    if (row.outcome !== 'found') continue;
    const parsed = parseCharge(row.body);
    if (parsed.ok) answers.set(row.charge_key, { kind: 'found', charge: parsed.charge });
  }
  return answers;
}

import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { InquiryClient, InquiryOutcome, InquiryRequest } from '../gateway/inquiry-client.ts';
import { classifyResponse } from '../gateway/inquiry-response.ts';
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
  const stored = options.resumeFrom ? await reuseAnswers(db, options.resumeFrom, runId, familiesOf(cases, options.asOf)) : new Map<string, GatewayAnswer>();
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
    body: outcome.kind === 'failed' ? null : outcome.bodyText,
    fetched_by_run: runId,
  };
}

function familiesOf(cases: readonly ChargeCase[], asOf: string): Map<string, InquiryRequest['family']> {
  return new Map(cases.map((c) => [chargeKey(c.charge), inquiryRequestFor(c.charge, asOf).family]));
}

/**
 * Copies the interrupted run's definite answers into this run, and reads them back from the
 * stored text through the same classification a live answer goes through, so a resumed run
 * decides exactly as the interrupted one would have.
 */
async function reuseAnswers(
  db: Kysely<Database>,
  fromRun: string,
  runId: string,
  families: ReadonlyMap<string, InquiryRequest['family']>,
): Promise<Map<string, GatewayAnswer>> {
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
    .select(['charge_key', 'http_status', 'body'])
    .where('run_id', '=', runId)
    .where('outcome', 'in', ['found', 'not_found'])
    .execute();
  const answers = new Map<string, GatewayAnswer>();
  const askAgain: string[] = [];
  for (const row of rows) {
    const family = families.get(row.charge_key);
    // A charge of the run's other round (the charges of refund and void rows are asked apart).
    if (!family) continue;
    const result = row.body !== null && row.http_status !== null ? classifyResponse(family, row.http_status, row.body, null) : undefined;
    if (result?.kind === 'found') answers.set(row.charge_key, { kind: 'found', charge: result.charge });
    else if (result?.kind === 'not_found') answers.set(row.charge_key, { kind: 'not_found' });
    // Not a definite answer any more (the rules changed since): asked again, and that answer stored.
    else askAgain.push(row.charge_key);
  }
  if (askAgain.length) await db.deleteFrom('gateway_inquiries').where('run_id', '=', runId).where('charge_key', 'in', askAgain).execute();
  return answers;
}

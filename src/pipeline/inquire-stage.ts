import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { Asked, GatewayAnswer, Received } from '../gateway/gateway-answer.ts';
import type { InquiryClient, InquiryRequest } from '../gateway/inquiry-client.ts';
import { classifyResponse } from '../gateway/inquiry-response.ts';
import type { Logger } from '../log.ts';
import { chargeKey, inquiryRequestFor, type ChargeCase } from '../reconcile/charge-case.ts';

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

/** Most answers written to the audit trail in one statement. */
const FLUSH_EVERY = 500;
/**
 * Charges being asked about at once. The client bounds the requests in flight (`concurrency`)
 * and their rate; this bounds the charges waiting for a slot or a retry's backoff, so memory
 * does not grow with the run, while enough wait that a few in backoff leave no slot idle.
 */
const IN_FLIGHT = 512;

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

  const audit = auditWriter(db, runId);
  let done = answers.size;
  options.onProgress?.(done, cases.length);
  // Workers pulling from one iterator: a promise per charge asked now, not one per charge of the run.
  const queue = pending[Symbol.iterator]();
  let stopped = false;
  const worker = async () => {
    for (let next = queue.next(); !next.done && !stopped; next = queue.next()) {
      const chargeCase = next.value;
      const answer = await client.inquire(inquiryRequestFor(chargeCase.charge, options.asOf), signal);
      answers.set(chargeCase, answer);
      audit.add(chargeKey(chargeCase.charge), answer);
      options.onProgress?.(++done, cases.length);
    }
  };
  const workers = Array.from({ length: Math.min(IN_FLIGHT, pending.length) }, () =>
    worker().catch((error: unknown) => {
      // The first failure (an abort, a refused key) ends the stage: no charge is taken up after it.
      stopped = true;
      throw error;
    }),
  );
  const settled = await Promise.allSettled(workers);
  // On an abort, the other requests have wound down; keep what did arrive: a re-run reuses it.
  await audit.close();
  const failure = settled.find((s) => s.status === 'rejected');
  if (failure) throw failure.reason;
  // Not one HTTP answer: the run must not end as "everything unverified" (exit 0).
  const unreachable = client.unreachable();
  if (unreachable) throw unreachable;
  return { answers, reused: cases.length - pending.length };
}

/**
 * The audit trail's writer: answers gathered into batches, each written as one statement whose
 * rows travel as one JSON parameter (`json_to_recordset`). Building it is one native
 * `JSON.stringify`: a multi-row INSERT cost a query compile per batch, and `unnest` of arrays a
 * pass of pg's array escaping over every quote of every body. (COPY would need a connection of
 * its own outside the pool, and cannot skip a row already stored, which a resumed run needs.)
 * Batches are written one after the other while the inquiries go on.
 */
/**
 * Stores answers as they come, one statement at a time: while one is being written the next
 * answers gather, and go together in the next statement (at most {@link FLUSH_EVERY} rows). So
 * batches grow with the pace of the answers, and a run killed at any moment has stored all but
 * the answers of the last few milliseconds: a resumed run asks again little more than what was
 * in flight.
 */
function auditWriter(db: Kysely<Database>, runId: string): { add(key: string, answer: GatewayAnswer): void; close(): Promise<void> } {
  let batch: AuditRow[] = [];
  let writing: Promise<void> | undefined;
  let failure: unknown;
  const pump = () => {
    if (writing || failure !== undefined || !batch.length) return;
    const rows = batch.length <= FLUSH_EVERY ? batch : batch.splice(0, FLUSH_EVERY);
    if (rows === batch) batch = [];
    writing = insertAudit(db, runId, rows).then(
      () => {
        writing = undefined;
        pump();
      },
      // A failed write surfaces at close(); nothing more is written after it.
      (error: unknown) => {
        failure = error;
        writing = undefined;
      },
    );
  };
  return {
    add(key, answer) {
      batch.push(
        answer.kind === 'failed'
          ? { key, path: answer.path, outcome: answer.kind, status: null, attempts: answer.attempts, failure: answer.reason, body: null }
          : { key, path: answer.path, outcome: answer.kind, status: answer.httpStatus, attempts: answer.attempts, failure: null, body: answer.bodyText },
      );
      pump();
    },
    close: async () => {
      for (pump(); writing; pump()) await writing;
      if (failure !== undefined) throw failure;
    },
  };
}

/** One `gateway_inquiries` row as it travels in the batch's JSON (names as in {@link insertAudit}). */
interface AuditRow {
  key: string;
  path: string;
  outcome: GatewayAnswer['kind'];
  status: number | null;
  attempts: number;
  failure: string | null;
  body: string | null;
}

async function insertAudit(db: Kysely<Database>, runId: string, rows: readonly AuditRow[]): Promise<void> {
  await sql`
    INSERT INTO gateway_inquiries (run_id, charge_key, request_path, outcome, http_status, attempts, failure, body, fetched_by_run)
    SELECT ${runId}::uuid, u.key, u.path, u.outcome, u.status, u.attempts, u.failure, u.body, ${runId}::uuid
    FROM json_to_recordset(${JSON.stringify(rows)}::json)
      AS u(key text, path text, outcome text, status integer, attempts integer, failure text, body text)
    ON CONFLICT DO NOTHING`.execute(db);
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
    .select(['charge_key', 'request_path', 'attempts', 'http_status', 'body'])
    .where('run_id', '=', runId)
    .where('outcome', 'in', ['found', 'not_found'])
    .execute();
  const answers = new Map<string, GatewayAnswer>();
  const askAgain: string[] = [];
  for (const row of rows) {
    const family = families.get(row.charge_key);
    // A charge of the run's other round (the charges of refund and void rows are asked apart).
    if (!family) continue;
    const answer = row.body !== null && row.http_status !== null ? storedAnswer(family, { path: row.request_path, attempts: row.attempts, httpStatus: row.http_status, bodyText: row.body }) : undefined;
    if (answer) answers.set(row.charge_key, answer);
    // Not a definite answer any more (the rules changed since): asked again, and that answer stored.
    else askAgain.push(row.charge_key);
  }
  if (askAgain.length) await db.deleteFrom('gateway_inquiries').where('run_id', '=', runId).where('charge_key', 'in', askAgain).execute();
  return answers;
}

/** A stored answer read as a live one would be; `undefined` when it is no longer a definite one. */
function storedAnswer(family: InquiryRequest['family'], stored: Asked & Received): GatewayAnswer | undefined {
  const result = classifyResponse(family, stored.httpStatus, stored.bodyText, null);
  if (result.kind === 'found' || result.kind === 'not_found') return { ...result, ...stored };
  return undefined;
}

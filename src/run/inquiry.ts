import { sql, type Kysely } from 'kysely';
import { batchedWriter } from '../db/batched-writer.ts';
import { anyText } from '../db/any-text.ts';
import type { Database } from '../db/database.ts';
import type { Asked, GatewayAnswer, Received } from '../gateway/gateway-answer.ts';
import type { InquiryClient, InquiryRequest } from '../gateway/inquiry-client.ts';
import { classifyResponse } from '../gateway/inquiry-response.ts';
import type { Logger } from '../log.ts';
import { chargeKey, inquiryRequestFor, type ChargeCase, type NumberedCase } from '../reconcile/charge-case.ts';

export interface InquireOptions {
  db: Kysely<Database>;
  runId: string;
  /**
   * An interrupted run of the same dates whose definite answers are reused: copied into this run
   * once, before its first pass ({@link copyDefiniteAnswers}), and looked up a page at a time.
   */
  resumeFrom: string | undefined;
  client: InquiryClient;
  asOf: string;
  signal: AbortSignal;
  logger: Logger;
  /**
   * Charges being asked about at once. The client bounds the requests in flight and their rate;
   * this bounds the charges waiting for a slot or in a retry's backoff: a few times the client's
   * concurrency, so a few in backoff leave no slot idle while each waiting charge costs little.
   */
  inFlight: number;
  /** Called once per case answered (asked or reused). */
  onProgress?: () => void;
}

/** Most answers written to the audit trail in one statement. */
const AUDIT_BATCH = 500;
/** Answers waiting for the audit trail before the inquiries wait for it. */
const AUDIT_HIGH_WATER = 20_000;
/** The longest an answer waits to be stored: what a run killed at that moment asks again. */
const WRITE_AFTER_MS = 200;

/**
 * Asks the gateway about every case the pages hold, handing each answer to `onAnswer` as it
 * arrives (the worker takes up its next case once that returns), and storing each in the audit
 * trail as it comes: what a resumed run picks up. Answers an interrupted run already stored are
 * reused, only definite ones (found, not found), since a failure may have been passing.
 *
 * Workers pull from one iterator over the pages: a promise per charge being asked, not one per
 * charge of the run, and only the pages being worked on are held.
 */
export async function inquireCases(
  pages: AsyncIterable<readonly NumberedCase[]>,
  options: InquireOptions,
  onAnswer: (numbered: NumberedCase, answer: GatewayAnswer) => void | Promise<void>,
): Promise<{ reused: number }> {
  const { db, runId, client, signal, logger } = options;
  const audit = batchedWriter<AuditRow>((rows) => insertAudit(db, runId, rows), { batch: AUDIT_BATCH, highWater: AUDIT_HIGH_WATER, maxDelayMs: WRITE_AFTER_MS });
  let reused = 0;
  async function* toAsk(): AsyncGenerator<NumberedCase> {
    for await (const page of pages) {
      const stored = options.resumeFrom ? await storedAnswers(db, runId, page, options.asOf) : undefined;
      for (const numbered of page) {
        const answer = stored?.get(numbered.chargeCase);
        if (!answer) {
          yield numbered;
          continue;
        }
        reused += 1;
        await onAnswer(numbered, answer);
        options.onProgress?.();
      }
    }
  }
  const queue = toAsk();
  let stopped = false;
  const worker = async () => {
    for (let next = await queue.next(); !next.done && !stopped; next = await queue.next()) {
      const numbered = next.value;
      const answer = await client.inquire(inquiryRequestFor(numbered.chargeCase.charge, options.asOf), signal);
      audit.add(auditRow(chargeKey(numbered.chargeCase.charge), answer));
      await onAnswer(numbered, answer);
      await audit.room();
      options.onProgress?.();
    }
  };
  const workers = Array.from({ length: options.inFlight }, () =>
    worker().catch((error: unknown) => {
      // The first failure (an abort, a refused key) ends the stage: no charge is taken up after it.
      stopped = true;
      throw error;
    }),
  );
  const settled = await Promise.allSettled(workers);
  // On an abort, the other requests have wound down; keep what did arrive: a re-run reuses it.
  const closed = await audit.close().then(() => undefined, (error: unknown) => ({ error }));
  const failure = settled.find((s) => s.status === 'rejected');
  if (failure) throw failure.reason;
  if (closed) throw closed.error;
  if (reused) logger.info({ reused, from: options.resumeFrom }, 'reused the answers an earlier run of these dates already had');
  // Not one HTTP answer: the run must not end as "everything unverified" (exit 0).
  const unreachable = client.unreachable();
  if (unreachable) throw unreachable;
  return { reused };
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

function auditRow(key: string, answer: GatewayAnswer): AuditRow {
  return answer.kind === 'failed'
    ? { key, path: answer.path, outcome: answer.kind, status: null, attempts: answer.attempts, failure: answer.reason, body: null }
    : { key, path: answer.path, outcome: answer.kind, status: answer.httpStatus, attempts: answer.attempts, failure: null, body: answer.bodyText };
}

/**
 * A batch of the audit trail in one statement, its rows travelling as one JSON parameter
 * (`json_to_recordset`): one native `JSON.stringify`, with no per-batch query to compile and no
 * array escaping over every body. Not COPY: it cannot skip a row already stored, which a resumed
 * run needs.
 */
async function insertAudit(db: Kysely<Database>, runId: string, rows: readonly AuditRow[]): Promise<void> {
  await sql`
    INSERT INTO gateway_inquiries (run_id, charge_key, request_path, outcome, http_status, attempts, failure, body, fetched_by_run)
    SELECT ${runId}::uuid, u.key, u.path, u.outcome, u.status, u.attempts, u.failure, u.body, ${runId}::uuid
    FROM json_to_recordset(${JSON.stringify(rows)}::json)
      AS u(key text, path text, outcome text, status integer, attempts integer, failure text, body text)
    ON CONFLICT DO NOTHING`.execute(db);
}

/** Copies the interrupted run's definite answers into this run: its audit trail shows them too. */
export async function copyDefiniteAnswers(db: Kysely<Database>, fromRun: string, runId: string): Promise<void> {
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
}

/**
 * The stored answers of a page's cases, read from the stored text through the same
 * classification a live answer goes through, so a resumed run decides exactly as the
 * interrupted one would have. An answer that is no longer a definite one (the rules changed
 * since) is deleted: the charge is asked again, and that answer stored.
 */
async function storedAnswers(db: Kysely<Database>, runId: string, page: readonly NumberedCase[], asOf: string): Promise<Map<ChargeCase, GatewayAnswer>> {
  const byKey = new Map(page.map(({ chargeCase }) => [chargeKey(chargeCase.charge), chargeCase]));
  const rows = await db
    .selectFrom('gateway_inquiries')
    .select(['charge_key', 'request_path', 'attempts', 'http_status', 'body'])
    .where('run_id', '=', runId)
    .where('charge_key', '=', anyText([...byKey.keys()]))
    .where('outcome', 'in', ['found', 'not_found'])
    .execute();
  const answers = new Map<ChargeCase, GatewayAnswer>();
  const askAgain: string[] = [];
  for (const row of rows) {
    const chargeCase = byKey.get(row.charge_key)!;
    const family = inquiryRequestFor(chargeCase.charge, asOf).family;
    const answer = row.body !== null && row.http_status !== null ? storedAnswer(family, { path: row.request_path, attempts: row.attempts, httpStatus: row.http_status, bodyText: row.body }) : undefined;
    if (answer) answers.set(chargeCase, answer);
    else askAgain.push(row.charge_key);
  }
  if (askAgain.length) await db.deleteFrom('gateway_inquiries').where('run_id', '=', runId).where('charge_key', '=', anyText(askAgain)).execute();
  return answers;
}

/** A stored answer read as a live one would be; `undefined` when it is no longer a definite one. */
function storedAnswer(family: InquiryRequest['family'], stored: Asked & Received): GatewayAnswer | undefined {
  const result = classifyResponse(family, stored.httpStatus, stored.bodyText, null);
  if (result.kind === 'found' || result.kind === 'not_found') return { ...result, ...stored };
  return undefined;
}

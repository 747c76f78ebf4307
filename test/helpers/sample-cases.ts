import type { GatewayAnswer } from '../../src/gateway/gateway-answer.ts';
import { identityProblem } from '../../src/gateway/charge-identity.ts';
import { inquiryPath } from '../../src/gateway/inquiry-path.ts';
import { classifyResponse } from '../../src/gateway/inquiry-response.ts';
import { CsvReader, recordOf, type CsvRecord, type RecordSpan } from '../../src/ingest/csv-records.ts';
import type { InstallmentPlan } from '../../src/ingest/plan.table.ts';
import { mapPlanHeader, readPlanRow } from '../../src/ingest/plan-row.ts';
import { money } from '../../src/money.ts';
import { buildCases, buildOrphanCases, inquiryRequestFor, type ChargeCase } from '../../src/reconcile/charge-case.ts';
import { parseFeeSchedule } from '../../src/reconcile/fee-schedule-parse.ts';
import { planBook } from '../../src/reconcile/installment-check.ts';
import type { ChargeResult, ReconcileContext } from '../../src/reconcile/charge-result.ts';
import type { GatewayBody } from '../../src/sample/charge-builder.ts';
import { generateSample, SAMPLE_SUPPLIER, type SampleData, type SampleOptions } from '../../src/sample/generate-sample.ts';
import { FAMILY_HINT, FROM_HINT } from '../../src/simulator/charge-store.ts';
import { ledgerEntry } from './reconcile-sample.ts';

/** A generated sample as the reconcile stage sees it: its cases, the gateway's answers, the context. */
export interface SampleRun {
  readonly data: SampleData;
  readonly cases: ChargeCase[];
  readonly answers: GatewayAnswer[];
  readonly context: ReconcileContext;
}

/**
 * The sample's ledger grouped into cases as a run groups them (refund and void rows without a
 * charge row become orphan cases), each answered with the record the simulator would serve on
 * `asOf`, parsed and checked the way the inquiry client does it. No database, no HTTP: for
 * benchmarking and comparing the reconcile step alone.
 */
export function sampleRun(options: SampleOptions & { asOf: string }): SampleRun {
  const data = generateSample(options);
  const rows = data.ledger.map((row, i) => ledgerEntry(row, i + 2));
  const { cases, unlinked } = buildCases(rows.filter((r) => r.entry_type === 'charge'), rows.filter((r) => r.entry_type !== 'charge'));
  cases.push(...buildOrphanCases(unlinked));
  const served = recordsInForce(data.gateway, options.asOf);
  const answers = cases.map((c) => answerFor(c, served, options.asOf));
  const context: ReconcileContext = {
    fees: parseFeeSchedule(data.fees),
    plans: samplePlanBook(data.plans.csv),
    tolerance: money('0'),
    keyMode: 'test',
    asOf: options.asOf,
    refundGraceDays: 3,
  };
  return { data, cases, answers, context };
}

/** Each charge's record in force on `asOf` (the last one whose `_from` is not after it), by each of its ids. */
function recordsInForce(records: readonly GatewayBody[], asOf: string): Map<string, GatewayBody> {
  const byId = new Map<string, GatewayBody>();
  for (const record of records) {
    const from = record[FROM_HINT];
    if (typeof from === 'string' && from > asOf) continue;
    const { [FROM_HINT]: _from, [FAMILY_HINT]: _family, ...body } = record;
    for (const id of [body.id, body.reference_order, body.order_id]) if (typeof id === 'string') byId.set(id, body);
  }
  return byId;
}

function answerFor(chargeCase: ChargeCase, served: Map<string, GatewayBody>, asOf: string): GatewayAnswer {
  const request = inquiryRequestFor(chargeCase.charge, asOf);
  const path = inquiryPath(request);
  const body = served.get(request.id);
  if (!body) {
    const bodyText = JSON.stringify({ object: 'error', code: 'charge_id_not_exist', message: 'charge not found' });
    return { kind: 'not_found', code: 'charge_id_not_exist', path, attempts: 1, httpStatus: 404, bodyText };
  }
  const bodyText = JSON.stringify(body);
  const result = classifyResponse(request.family, 200, bodyText, null);
  if (result.kind !== 'found') return { kind: 'failed', reason: `${result.kind} answer`, path, attempts: 1 };
  const problem = identityProblem(request, result.charge);
  if (problem) return { kind: 'failed', reason: problem, path, attempts: 1 };
  return { kind: 'found', charge: result.charge, path, attempts: 1, httpStatus: 200, bodyText };
}

/** The sample plan report read as plan ingest reads it, as one version imported long before the sample. */
function samplePlanBook(csv: string): ReturnType<typeof planBook> {
  const records: CsvRecord[] = [];
  const reader = new CsvReader();
  const take = (span: RecordSpan) => void records.push(recordOf(span));
  reader.push(Buffer.from(csv), take);
  reader.push(null, take);
  const [header, ...rows] = records;
  const mapped = mapPlanHeader(header!.fields);
  if (!mapped.ok) throw new Error(mapped.problem);
  const plans: InstallmentPlan[] = rows.map((record) => {
    const read = readPlanRow(record, mapped.columns, SAMPLE_SUPPLIER);
    if (!read.ok) throw new Error(read.reason);
    return { ...read.plan, merchant: '', report_id: '1', source_line: record.line } as InstallmentPlan;
  });
  return planBook(plans, [{ report_id: '1', supplier_no: SAMPLE_SUPPLIER, imported_on: '2020-01-01' }]);
}

/** Everything a result says, as plain JSON: status, the gateway's id and every field of every mismatch. */
export function resultRecord(result: ChargeResult): unknown[] {
  return [
    result.case.charge.entry_id,
    result.status,
    result.gateway?.id ?? null,
    result.mismatches.map((m) => [m.code, m.entryId, m.field ?? null, m.ledgerValue ?? null, m.gatewayValue ?? null, m.difference?.toString() ?? null, m.message]),
  ];
}

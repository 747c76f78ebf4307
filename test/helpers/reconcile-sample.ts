import { parseCharge } from '../../src/gateway/charge.ts';
import type { LedgerEntry } from '../../src/ingest/ledger.table.ts';
import { buildCases } from '../../src/reconcile/charge-case.ts';
import { reconcileCharge } from '../../src/reconcile/reconcile-charge.ts';
import type { ChargeResult, ReconcileContext } from '../../src/reconcile/charge-result.ts';
import type { GatewayBody, LedgerRow } from '../../src/sample/charge-builder.ts';

/** A ledger row as PostgreSQL hands it back. */
export function ledgerEntry(row: LedgerRow & { captured_amount?: string }, line = 2): LedgerEntry {
  const n = (v: string | undefined) => (v ? v : null);
  return {
    entry_id: row.entry_id!, entry_type: row.entry_type as LedgerEntry['entry_type'], reference_order: n(row.reference_order),
    charge_id: n(row.charge_id), order_id: n(row.order_id), transaction_date: row.transaction_date!,
    entry_date: row.entry_date ?? row.transaction_date!, source_type: row.source_type as LedgerEntry['source_type'],
    currency: row.currency!, amount: row.amount!, mdr: n(row.mdr), vat: n(row.vat), net_amount: n(row.net_amount),
    refund_id: n(row.refund_id), mid: n(row.mid), plan_id: n(row.plan_id), ipan_mode: n(row.ipan_mode),
    term: row.term ? Number(row.term) : null, supplier_no: n(row.supplier_no), model_no: n(row.model_no),
    product_type: n(row.product_type), convfee_amount: n(row.convfee_amount), convfee_vat: n(row.convfee_vat),
    captured_amount: n(row.captured_amount), source_file: 'ledger.csv', source_line: line, ingested_at: new Date(), merchant: '',
  };
}

/** The rules of §4 on one charge's ledger rows (charge row first) and one gateway answer, without database or HTTP. */
export function reconcileSample(sample: { ledger: LedgerRow[]; gateway: GatewayBody }, context: ReconcileContext): ChargeResult {
  const rows = sample.ledger.map((r, i) => ledgerEntry(r, i + 2));
  const { cases } = buildCases(rows.filter((r) => r.entry_type === 'charge'), rows.filter((r) => r.entry_type !== 'charge'));
  const parsed = parseCharge(sample.gateway);
  if (!parsed.ok) throw new Error(parsed.reason);
  const answer = { kind: 'found', charge: parsed.charge, path: '/card/v2/charge/sample', attempts: 1, httpStatus: 200, bodyText: JSON.stringify(sample.gateway) } as const;
  return reconcileCharge(cases[0]!, answer, context);
}

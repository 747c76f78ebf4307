import type { Generated, Selectable } from 'kysely';
import type { DateText, Numeric } from './ledger.table.ts';

/** One imported report file: a version of its supplier's plans (docs/reference.md §3.2). */
export interface InstallmentPlanReportTable {
  /** Whose row this is: the merchant's mid, '' for a single merchant (sql/0012_merchant.sql). */
  merchant: Generated<string>;
  /** bigserial, as text. */
  report_id: Generated<string>;
  supplier_no: string;
  file_name: string;
  period_from: DateText;
  period_to: DateText;
  row_count: number;
  /** sha256 of the file's bytes: the identical file imported again adds no version. */
  content_sha256: string | null;
  imported_at: Generated<Date>;
}

export interface InstallmentPlanTable {
  /** Whose row this is: the merchant's mid, '' for a single merchant (sql/0012_merchant.sql). */
  merchant: Generated<string>;
  /** The report version this plan belongs to. */
  report_id: string;
  supplier_no: string;
  seq_no: number;
  promotion_name: string;
  valid_from: DateText;
  valid_to: DateText;
  ipan_mode: string;
  product_name: string;
  product_type: number;
  model_no: string;
  plan_id: number;
  model_name: string;
  min_price: Numeric;
  max_price: Numeric;
  payment_term: number;
  card_type: string;
  source_line: number;
}

export type InstallmentPlan = Selectable<InstallmentPlanTable>;

export interface PlanTables {
  installment_plan_reports: InstallmentPlanReportTable;
  installment_plans: InstallmentPlanTable;
}

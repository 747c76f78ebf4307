import type { Generated, Selectable } from 'kysely';
import type { DateText, Numeric } from './ledger.table.ts';

export interface InstallmentPlanReportTable {
  supplier_no: string;
  file_name: string;
  period_from: DateText;
  period_to: DateText;
  row_count: number;
  imported_at: Generated<Date>;
}

export interface InstallmentPlanTable {
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

import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export const GENERATED_HEADER =
  'entry_id,entry_type,reference_order,charge_id,order_id,transaction_date,entry_date,source_type,currency,amount,mdr,vat,net_amount,refund_id,mid';

/**
 * Writes `rows` realistic ledger rows to `path`, streamed (memory stays flat however many).
 * Row i is deterministic, so a test can predict what was stored.
 */
export async function generateLedger(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  let chunk = `${GENERATED_HEADER}\n`;
  for (let i = 1; i <= rows; i++) {
    const qr = i % 5 === 0;
    const day = String((i % 28) + 1).padStart(2, '0');
    const amount = 100 + (i % 100_000) / 4;
    const cents = amount.toFixed(2);
    chunk += qr
      ? `E${i},charge,ORD-${i},,ordr_test_${i},2024-05-${day},,qr,THB,${cents},,,,,401000000000001\n`
      : `E${i},charge,ORD-${i},chrg_test_${i},,${day}/05/2567,,card,thb,"${withThousands(cents)}",1.00,0.07,${(amount - 1.07).toFixed(2)},,401000000000001\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

/** `12345.50` → `12,345.50`, as spreadsheets export amounts (toLocaleString is far too slow here). */
function withThousands(decimal: string): string {
  const dot = decimal.indexOf('.');
  let whole = decimal.slice(0, dot);
  let out = '';
  while (whole.length > 3) {
    out = `,${whole.slice(-3)}${out}`;
    whole = whole.slice(0, -3);
  }
  return `${whole}${out}${decimal.slice(dot)}`;
}

/**
 * Writes the ingest fixtures under test/fixtures/ (run: npx tsx test/ingest/make-fixtures.ts).
 * Kept as a script because some must be byte-exact: a BOM, CRLF line ends, Windows-874 bytes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import iconv from 'iconv-lite';

const dir = (sub: string): string => fileURLToPath(new URL(`../fixtures/${sub}/`, import.meta.url));
const BOM = '\uFEFF';
const crlf = (lines: string[]): string => `${lines.join('\r\n')}\r\n`;
const lf = (lines: string[]): string => `${lines.join('\n')}\n`;

const HEADER = 'entry_id,entry_type,reference_order,charge_id,order_id,transaction_date,entry_date,source_type,currency,amount,mdr,vat,net_amount,refund_id,mid,note';

// Every way a row can go wrong, one per line; the comments in ledger-ingest.test.ts give the lines.
const nasty = [
  HEADER,
  'L1,charge,ORD-1,chrg_1,,2024-05-01,,card,thb,"1,234.50",,,,,,"a note, with a comma"',
  'L2,charge,ORD-2,chrg_2,,01/05/2567,,CARD,THB,99.5,1.5,0.11,97.89,,,"a note spanning',
  'two lines"',
  'L3,refund,,chrg_1,,2024-05-01,2024-05-03,card,THB,100.00,,,,refd_1,,"He said ""refund"""',
  '',
  'L4,charge,ORD-4,chrg_4,,2024-05-01,,card,THB,"12,34.5",,,,,,',
  'L5,charge,ORD-5,chrg_5,,31/02/2024,,card,THB,10.00,,,,,,',
  'L6,charge,ORD-6,chrg_6,,2024-05-01,,card,THB,10.005,,,,,,',
  'L7,charge,ORD-7,chrg_7,,2024-05-01,,card,THB,-10.00,,,,,,',
  'L8,payment,ORD-8,chrg_8,,2024-05-01,,card,THB,10.00,,,,,,',
  'L9,charge,ORD-9,,,2024-05-01,,qr,THB,10.00,,,,,,',
  'L10,charge,,,,2024-05-01,,card,THB,10.00,,,,,,',
  'L11,charge,ORD-11,chrg_11',
  'L12,charge,ORD-12,chrg_12,,2024-05-01,,card,THB,1,234.50,,,,,,',
  'L13,charge,ORD-13,,ordr_13,2024-05-02,,wechat,THB,20.00,,,,,,"multi',
  '',
  'line note"',
  'L1,charge,ORD-1,chrg_1,,2024-05-01,,card,THB,1234.5,,,,,,the same entry again',
  'L2,charge,ORD-2,chrg_2,,2024-05-01,,card,THB,99.60,,,,,,',
  ',charge,ORD-21,chrg_21,,2024-05-01,,card,THB,5.00,,,,,,',
  'L14,void,ORD-14,chrg_14,,2024-05-01,,alipay,THB,5.00,,,,,,"never closed',
  'L15,charge,ORD-15,chrg_15,,2024-05-01,,card,THB,7.00,,,,,,',
];
writeFileSync(`${dir('ledger')}nasty.csv`, lf(nasty));

// UTF-8 with BOM and CRLF, headers in another case with spaces, Thai in a value.
writeFileSync(
  `${dir('ledger')}bom-crlf.csv`,
  BOM + crlf([
    ' Entry_ID ,ENTRY_TYPE,Reference_Order,Charge_ID,Transaction_Date,Source_Type,Currency,Amount',
    'B1,charge,คำสั่งซื้อ-๑,chrg_b1,2024-06-30,card,thb,"12,345.67"',
    'B2,charge,ORD-B2,chrg_b2,30/06/2024,unionpay,THB,0.01',
  ]),
);

// Windows-874 with Thai headers (mapped by thai-map.json), Buddhist-era dates, CRLF.
const THAI_MAP = {
  entry_id: 'เลขที่รายการ',
  entry_type: 'ประเภท',
  reference_order: 'เลขที่ใบสั่งซื้อ',
  charge_id: 'รหัสการชำระ',
  transaction_date: 'วันที่ทำรายการ',
  source_type: 'ช่องทาง',
  currency: 'สกุลเงิน',
  amount: 'จำนวนเงิน',
};
writeFileSync(`${dir('ledger')}thai-map.json`, `${JSON.stringify(THAI_MAP, null, 2)}\n`);
writeFileSync(
  `${dir('ledger')}thai-win874.csv`,
  iconv.encode(
    crlf([
      Object.values(THAI_MAP).join(',') + ',หมายเหตุ',
      'T1,charge,ใบสั่ง-001,chrg_t1,15/01/2567,card,THB,"1,500.00",ผ่อนชำระ',
      'T2,refund,ใบสั่ง-001,chrg_t1,29/02/2567,card,THB,250.5,คืนเงินบางส่วน',
    ]),
    'win874',
  ),
);

// A folder of two files (and a file that is not CSV, ignored) for in-run duplicates.
writeFileSync(
  `${dir('ledger/folder')}a.csv`,
  lf(['entry_id,entry_type,charge_id,transaction_date,source_type,currency,amount', 'F1,charge,chrg_f1,2024-05-01,card,THB,10.00', 'F2,charge,chrg_f2,2024-05-01,card,THB,20.00']),
);
writeFileSync(
  `${dir('ledger/folder')}b.csv`,
  lf(['entry_id,entry_type,charge_id,transaction_date,source_type,currency,amount', 'F1,charge,chrg_f1,2024-05-01,card,THB,10.00', 'F2,charge,chrg_f2,2024-05-01,card,THB,21.00', 'F3,charge,chrg_f3,2024-05-01,card,THB,30.00']),
);
writeFileSync(`${dir('ledger/folder')}README.txt`, 'not a ledger\n');

writeFileSync(`${dir('ledger')}missing-columns.csv`, lf(['entry_id,entry_type,charge_id,transaction_date,source_type,currency', 'M1,charge,chrg_m1,2024-05-01,card,THB']));

const PLAN_HEADER = 'SeqNo.,PromotionName,ValidFrom,ValidTo,IPanMode,ProductName,SupplierNo.,ProductType,ModelNo.,PlanID,ModelName,MinPrice,MaxPrice,PaymentTerm,CardType';
mkdirSync(dir('plans'), { recursive: true });
writeFileSync(
  `${dir('plans')}Installment Plan Report_99902_010124311224.csv`,
  BOM + crlf([
    PLAN_HEADER,
    '1,โปรผ่อน 0% 10 เดือน,25/09/2021,31/12/2024,01,ALL PRODUCT,99902,003,000123,999,Galaxy Z Flip3 5G,"3,000.00",999999999,10,C',
    '2,Promo BE,01/01/2567,31/12/2567,3,ALL PRODUCT,99902,3,999999,12,Galaxy S24,1000,50000.5,6,K',
    '3,Other supplier,01/01/2024,31/12/2024,02,ALL PRODUCT,99903,3,999999,12,X,1000,2000,3,C',
    '4,Bad date,32/01/2024,31/12/2024,02,ALL PRODUCT,99902,3,999999,12,X,1000,2000,3,C',
    '2,Repeated SeqNo,01/01/2024,31/12/2024,02,ALL PRODUCT,99902,3,999999,12,X,1000,2000,3,C',
  ]),
);
writeFileSync(
  `${dir('plans')}Installment Plan Report_00123_010124300624.csv`,
  iconv.encode(crlf([PLAN_HEADER, '1,ผ่อนสบาย 0% นาน 6 เดือน,01/01/2024,30/06/2024,04,ALL PRODUCT,00123,007,0042,5,iPhone 15,"10,000",80000,6,C']), 'win874'),
);

import type { MismatchCode } from './mismatch.ts';

/** The findings about KBank's notifications (docs/reference.md §6). */
export const NOTIFICATION_CODES = ['NOT_IN_LEDGER', 'NOTIFY_CHECKSUM_INVALID', 'NOTIFY_STATE_MISMATCH'] as const satisfies readonly MismatchCode[];

/** One line each, for the finance clerk: Thai first, as the report shows them. */
export interface FindingText {
  readonly th: string;
  readonly en: string;
}

/**
 * What each finding code tells the finance clerk, in Thai and in English, as `report.html` shows
 * it. The English is the explanation in the findings table of docs/reference.md §7, word for word (a
 * test holds them together); the Thai says the same, short and plain.
 */
export const FINDING_TEXTS: Readonly<Record<MismatchCode, FindingText>> = {
  MISSING_AT_GATEWAY: {
    th: 'KBank ไม่มีรายการนี้: บันทึกบัญชีไว้แต่ไม่มีการชำระเงินจริง หรือเลขที่ในบัญชีผิด',
    en: 'KBank has no such charge: an entry without a payment behind it, or a wrong id in the books.',
  },
  INQUIRY_FAILED: {
    th: 'รอบนี้ KBank ยังตอบไม่ชัดเจน รายการนี้จึงยังตรวจไม่ได้ และจะถามใหม่',
    en: 'KBank gave no clear answer this time; the charge is unverified and will be asked again.',
  },
  CURRENCY_MISMATCH: {
    th: 'สกุลเงินในบัญชีกับที่ KBank เรียกเก็บไม่ตรงกัน จึงไม่ได้เทียบยอดเงินและค่าธรรมเนียม',
    en: 'Booked in one currency, charged in another; amounts and fees were not compared.',
  },
  AMOUNT_MISMATCH: {
    th: 'ยอดที่ KBank เรียกเก็บไม่ตรงกับยอดที่บันทึกบัญชี',
    en: 'KBank charged a different amount from the one booked.',
  },
  STATE_MISMATCH: {
    th: 'สถานะที่ KBank ไม่ตรงกับบัญชี (เช่น KBank ยกเลิกหรือชำระไม่สำเร็จ แต่บัญชีบันทึกว่าได้รับเงิน)',
    en: 'The payment\'s state at KBank does not fit the books (e.g. voided or failed at KBank but booked as paid).',
  },
  SETTLEMENT_PENDING: {
    th: 'บัญชีบันทึกว่าได้รับเงินแล้ว แต่ KBank เพิ่งอนุมัติหรือตัดบัตร ยังไม่ได้ชำระ ปกติจะชำระในวันถัดไป',
    en: 'Booked as settled, but KBank has only authorised or captured it; it normally settles the next day.',
  },
  DATE_MISMATCH: {
    th: 'วันที่ของ KBank (เวลากรุงเทพฯ) ไม่ตรงกับวันที่ในบัญชี',
    en: 'KBank dates the charge on another day (Bangkok time) than the books do.',
  },
  SETTLE_AMOUNT_MISMATCH: {
    th: 'ยอดที่ KBank ชำระให้ไม่ตรงกับยอดที่บันทึกบัญชี',
    en: 'KBank settled a different amount from the one booked.',
  },
  MDR_MISMATCH: {
    th: 'ค่าธรรมเนียม (MDR) ที่ KBank หักไม่ตรงกับอัตราที่ตกลงกันไว้',
    en: 'The fee KBank took is not the agreed one.',
  },
  VAT_MISMATCH: {
    th: 'ภาษีมูลค่าเพิ่มของค่าธรรมเนียม KBank ไม่ถูกต้อง',
    en: 'The VAT on KBank\'s fee is not what it should be.',
  },
  NET_MISMATCH: {
    th: 'ยอดสุทธิที่ KBank จ่ายให้สำหรับรายการนี้ไม่ถูกต้อง',
    en: 'What KBank paid out for the charge is not what it should be.',
  },
  SETTLEMENT_INCONSISTENT: {
    th: 'ตัวเลขของ KBank เองไม่ลงตัว (สุทธิ ≠ ยอด − ค่าธรรมเนียม − VAT) ต้องสอบถาม KBank',
    en: 'KBank\'s own figures do not add up (net ≠ amount − fee − VAT): a question for KBank.',
  },
  REFUND_MISSING_AT_GATEWAY: {
    th: 'บัญชีบันทึกการคืนเงิน แต่ KBank ไม่มีการคืนเงินนี้ (เลยระยะรอแล้ว)',
    en: 'A refund in the books was never made at KBank (and the grace days are over).',
  },
  REFUND_NOT_IN_LEDGER: {
    th: 'KBank คืนเงินให้ลูกค้า แต่บัญชีไม่ได้บันทึกไว้',
    en: 'KBank refunded money that the books do not show.',
  },
  REFUND_FAILED: {
    th: 'การคืนเงินที่ KBank ไม่สำเร็จ (เช่น เงินในบัญชีไม่พอ) หรือ KBank แสดงสถานะ Refund Fail',
    en: 'A refund was tried at KBank but failed (e.g. not enough balance), or KBank shows the state Refund Fail.',
  },
  REFUND_AMOUNT_MISMATCH: {
    th: 'ยอดคืนเงินของเลขที่คืนเงินนี้ที่ KBank ไม่ตรงกับบัญชี',
    en: 'The refund with this refund id was for a different amount at KBank.',
  },
  REFUND_MDR_MISMATCH: {
    th: 'ค่าธรรมเนียมที่ได้คืนจากการคืนเงินไม่ตรงกับที่ควรได้',
    en: 'The fee returned on a refund is not the expected one.',
  },
  REFUND_VAT_MISMATCH: {
    th: 'VAT ที่ได้คืนจากการคืนเงินไม่ตรงกับที่ควรได้',
    en: 'The VAT returned on a refund is not the expected one.',
  },
  REFUND_NET_MISMATCH: {
    th: 'ยอดสุทธิของการคืนเงินไม่ตรงกับที่ควรเป็น',
    en: 'The net amount of a refund is not the expected one.',
  },
  DUPLICATE_IN_LEDGER: {
    th: 'บัญชีบันทึกรายการเดียวกันซ้ำสองครั้ง ไม่ว่าวันเดียวกันหรือต่างวัน โดยแจ้งที่รายการที่บันทึกทีหลัง',
    en: 'The same charge is booked twice, on the same day or on another; the finding is on the later row.',
  },
  INSTALLMENT_PLAN_UNKNOWN: {
    th: 'ไม่พบแผนผ่อนชำระนี้ (ผู้จำหน่าย แผน รุ่น ประเภทสินค้า) ในรายงานแผนผ่อนชำระ',
    en: 'The installment plan (supplier, plan, model, product type) is not in the Plan Report.',
  },
  INSTALLMENT_PLAN_INACTIVE: {
    th: 'แผนผ่อนชำระนี้ไม่มีผลในวันที่ทำรายการ',
    en: 'The installment plan was not valid on the day of the charge.',
  },
  INSTALLMENT_TERM_INVALID: {
    th: 'แผนนี้ไม่มีจำนวนเดือนผ่อนตามที่บันทึกไว้',
    en: 'The plan does not offer that number of months.',
  },
  INSTALLMENT_PRICE_OUT_OF_RANGE: {
    th: 'ยอดต่ำกว่าราคาขั้นต่ำหรือสูงกว่าราคาสูงสุดของแผนผ่อนชำระ',
    en: 'The amount is below the plan\'s minimum or above its maximum price.',
  },
  IPAN_MODE_MISMATCH: {
    th: 'ผู้รับภาระดอกเบี้ย (ipan mode) ในบัญชีไม่ตรงกับแผนผ่อนชำระ',
    en: 'Who pays the interest (ipan mode) differs between the books and the plan.',
  },
  FEES_NOT_REPORTED: {
    th: 'KBank ชำระแล้ว แต่ยังไม่แจ้งค่าธรรมเนียม จะตรวจอีกครั้งในคืนต่อไป',
    en: 'KBank settled the charge but has not reported its fees yet; it will be checked again.',
  },
  REFUND_PENDING: {
    th: 'การคืนเงินที่เพิ่งบันทึกไม่กี่วันยังไม่ปรากฏที่ KBank จะตรวจอีกครั้ง',
    en: 'A refund booked in the last few days is not at KBank yet; it will be checked again.',
  },
  REFUND_UNVERIFIABLE: {
    th: 'คืนเงินบางส่วนของ Thai QR หรือ WeChat ซึ่งการสอบถามของ KBank แสดงไม่ได้ ให้ตรวจใน Merchant Portal',
    en: 'A partial refund of a Thai QR or WeChat payment, which KBank\'s inquiry cannot show; check it in the Merchant Portal.',
  },
  REFUND_EXCEEDS_AMOUNT: {
    th: 'บัญชีบันทึกคืนเงินมากกว่ายอดขายของรายการ',
    en: 'The books refund more than the charge was for.',
  },
  CONVFEE_MISMATCH: {
    th: 'ค่าธรรมเนียมอำนวยความสะดวก (convenience fee) หรือ VAT ของค่านี้ ในบัญชีไม่ตรงกับ KBank',
    en: 'The convenience fee, or its VAT, differs between the books and KBank.',
  },
  LIVEMODE_MISMATCH: {
    th: 'ได้คำตอบจากระบบทดสอบทั้งที่ใช้คีย์จริง หรือกลับกัน: ใช้ระบบหรือคีย์ของ KBank ผิด จึงไม่ได้ตรวจอย่างอื่น',
    en: 'A test answer for a live key, or a live answer for a test key: the wrong KBank system or key; nothing else was checked.',
  },
  ORPHAN_LEDGER_ENTRY: {
    th: 'รายการคืนเงินหรือยกเลิกในบัญชี ที่ไม่พบรายการขายทั้งในบัญชีและที่ KBank',
    en: 'A refund or void in the books whose charge exists neither in the books nor at KBank.',
  },
  NOT_IN_LEDGER: {
    th: 'KBank แจ้งว่ารับชำระสำเร็จ และการสอบถามยืนยันแล้ว แต่บัญชีไม่มีรายการนี้',
    en: 'KBank notified a successful payment, its inquiry confirms it, and the books do not have it.',
  },
  NOTIFY_CHECKSUM_INVALID: {
    th: 'การแจ้งเตือนที่ checksum ไม่ถูกต้อง (อาจถูกปลอมหรือแก้ไข) ห้ามเชื่อถือ',
    en: 'A notification whose checksum does not verify with the key: forged or altered, and not trusted.',
  },
  NOTIFY_STATE_MISMATCH: {
    th: 'KBank แจ้งว่าชำระสำเร็จ แต่การสอบถามบอกว่ารายการไม่สำเร็จ',
    en: 'A notification said the payment succeeded; KBank\'s inquiry says it failed.',
  },
};

/** The texts of a code, if it is one this version knows (a run's rows may be older or newer). */
export function findingText(code: string): FindingText | undefined {
  return Object.hasOwn(FINDING_TEXTS, code) ? FINDING_TEXTS[code as MismatchCode] : undefined;
}

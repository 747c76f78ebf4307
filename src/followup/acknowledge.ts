import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { FindingTable } from './followup.table.ts';

/**
 * Names findings for `ack` (docs/reference.md §1.7): every unresolved finding of the charge (its charge id,
 * reference order or ledger key) with this code, and this field and ledger row when given.
 */
export interface FindingSelector {
  charge: string;
  code: string;
  /** '' when not given: any field. */
  field: string;
  /** '' when not given: any ledger row. */
  entryId: string;
  /** The acknowledgement's note (unused when undoing). */
  note: string;
  /** Who acknowledges or undoes. */
  by: string;
  /** The line of the file it came from, if any. */
  line?: number;
}

/** Nothing applied because these selectors name no unresolved finding (when undoing: none acknowledged). */
export type Unmatched = { ok: false; unmatched: FindingSelector[] };

/**
 * `count` findings acknowledged, of which `replaced` had an acknowledgement before (with another
 * note, or given on other values); `unchanged` were already acknowledged with the same note.
 */
export type AckOutcome = { ok: true; count: number; replaced: number; unchanged: number } | Unmatched;

/** A finding a selector names: its identity and values, as `findings` holds them. */
type Match = Pick<FindingTable, 'charge_key' | 'code' | 'field' | 'entry_id' | 'ledger_value' | 'gateway_value'> & {
  /** 1-based position of the selector. */
  i: number;
};

/** Acknowledging and undoing take turns per merchant, so a finding never has two active acknowledgements. */
const ACK_LOCK = 0x6b70_6163; // "kpac"

/**
 * Acknowledges every finding the selectors name, on its current values (a change of values makes
 * it new again), one audit row per finding (a finding named twice takes the later note). A
 * finding has at most one active acknowledgement: one it already has with another note, or on
 * other values, is recorded as undone by whoever acknowledges it now, in the same transaction;
 * one with the same note on the same values is left as it is (loading a file twice changes
 * nothing). All or nothing: if any selector names no unresolved finding, nothing is written.
 */
export async function acknowledgeFindings(db: Kysely<Database>, selectors: readonly FindingSelector[]): Promise<AckOutcome> {
  return db.transaction().execute(async (trx) => {
    await takeTurn(trx);
    const found = await matchSelectors(trx, selectors, false);
    if (!found.ok) return found;
    const acks = ackRows(found.findings, (s) => s.note);
    const replaced = await sql`
      UPDATE finding_acknowledgements a SET undone_at = now(), undone_by = k.acked_by
      FROM ${acks} WHERE a.undone_at IS NULL AND ${sameIdentity('a', 'k')}
        AND (a.note <> k.note OR a.ledger_value IS DISTINCT FROM k.ledger_value OR a.gateway_value IS DISTINCT FROM k.gateway_value)`.execute(trx);
    const inserted = await sql`
      INSERT INTO finding_acknowledgements (charge_key, code, field, entry_id, ledger_value, gateway_value, note, acked_by)
      SELECT k.charge_key, k.code, k.field, k.entry_id, k.ledger_value, k.gateway_value, k.note, k.acked_by FROM ${acks}
      WHERE NOT EXISTS (SELECT 1 FROM finding_acknowledgements a WHERE a.undone_at IS NULL AND ${sameIdentity('a', 'k')})`.execute(trx);
    const count = Number(inserted.numAffectedRows ?? 0n);
    return { ok: true, count, replaced: Number(replaced.numAffectedRows ?? 0n), unchanged: found.findings.size - count };
  });
}

/**
 * Records as undone the active acknowledgement of each finding the selectors name; the audit
 * rows stay. All or nothing: if any selector names no unresolved finding that is acknowledged,
 * nothing is written. `count` is the acknowledgements undone.
 */
export async function undoAcknowledgements(db: Kysely<Database>, selectors: readonly FindingSelector[]): Promise<{ ok: true; count: number } | Unmatched> {
  return db.transaction().execute(async (trx) => {
    await takeTurn(trx);
    const found = await matchSelectors(trx, selectors, true);
    if (!found.ok) return found;
    const result = await sql`
      UPDATE finding_acknowledgements a SET undone_at = now(), undone_by = k.acked_by
      FROM ${ackRows(found.findings, () => '')} WHERE a.undone_at IS NULL AND ${sameIdentity('a', 'k')}`.execute(trx);
    return { ok: true, count: Number(result.numAffectedRows ?? 0n) };
  });
}

async function takeTurn(trx: Kysely<Database>): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${ACK_LOCK}, hashtext(current_schema()))`.execute(trx);
}

/** The findings as a table `k` of acknowledgement rows, one array parameter per column. */
function ackRows(findings: Named, noteOf: (s: FindingSelector) => string) {
  const found = [...findings.values()];
  const column = (pick: (f: (typeof found)[number]) => string | null) => found.map(pick);
  return sql`unnest(${column((f) => f.match.charge_key)}::text[], ${column((f) => f.match.code)}::text[],
      ${column((f) => f.match.field)}::text[], ${column((f) => f.match.entry_id)}::text[],
      ${column((f) => f.match.ledger_value)}::text[], ${column((f) => f.match.gateway_value)}::text[],
      ${column((f) => noteOf(f.selector))}::text[], ${column((f) => f.selector.by)}::text[])
    AS k(charge_key, code, field, entry_id, ledger_value, gateway_value, note, acked_by)`;
}

function sameIdentity(a: string, b: string) {
  const ref = (alias: string, column: string) => sql.ref(`${alias}.${column}`);
  return sql.join(['charge_key', 'code', 'field', 'entry_id'].map((c) => sql`${ref(a, c)} = ${ref(b, c)}`), sql` AND `);
}

/** The selectors that name no unresolved finding (read only: for listing every bad line of a file). */
export async function unmatchedSelectors(db: Kysely<Database>, selectors: readonly FindingSelector[], acknowledged: boolean): Promise<FindingSelector[]> {
  const found = await matchSelectors(db, selectors, acknowledged);
  return found.ok ? [] : found.unmatched;
}

/** Each finding named, by identity, with the selector naming it. */
type Named = Map<string, { match: Match; selector: FindingSelector }>;
type Found = { ok: true; findings: Named } | Unmatched;

/**
 * Every selector's unresolved findings (only those with an active acknowledgement when
 * `acknowledged`), in one query; each finding once, with the last selector naming it.
 */
async function matchSelectors(db: Kysely<Database>, selectors: readonly FindingSelector[], acknowledged: boolean): Promise<Found> {
  const column = (pick: (s: FindingSelector) => string) => selectors.map(pick);
  const { rows } = await sql<Match>`
    SELECT s.i::int AS i, f.charge_key, f.code, f.field, f.entry_id, f.ledger_value, f.gateway_value
    FROM unnest(${column((s) => s.charge)}::text[], ${column((s) => s.code)}::text[],
                ${column((s) => s.field)}::text[], ${column((s) => s.entryId)}::text[])
      WITH ORDINALITY AS s(charge, code, field, entry_id, i)
    JOIN findings f ON f.resolved_on IS NULL AND f.code = s.code
      AND (f.charge_id = s.charge OR f.reference_order = s.charge OR f.charge_key = s.charge)
      AND (s.field = '' OR f.field = s.field)
      AND (s.entry_id = '' OR f.entry_id = s.entry_id)
      ${acknowledged ? sql`AND EXISTS (SELECT 1 FROM finding_acknowledgements a WHERE a.undone_at IS NULL AND ${sameIdentity('a', 'f')})` : sql``}
    ORDER BY s.i`.execute(db);
  const named = new Set(rows.map((r) => r.i));
  const unmatched = selectors.filter((_, index) => !named.has(index + 1));
  if (unmatched.length) return { ok: false, unmatched };
  const findings: Named = new Map();
  for (const match of rows) {
    findings.set(JSON.stringify([match.charge_key, match.code, match.field, match.entry_id]), { match, selector: selectors[match.i - 1]! });
  }
  return { ok: true, findings };
}

/** `charge X code Y field F entry E`, as a bad line or a refusal names a selector. */
export function describeSelector(selector: FindingSelector): string {
  let text = `charge ${selector.charge} code ${selector.code}`;
  if (selector.field) text += ` field ${selector.field}`;
  if (selector.entryId) text += ` entry ${selector.entryId}`;
  return text;
}

import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { FindingTable } from './followup.table.ts';

/**
 * Names findings for `ack` (contract §9): every unresolved finding of the charge (its charge id,
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

/** Applied, or nothing applied because these selectors name no unresolved finding. */
export type AckOutcome = { ok: true; count: number } | { ok: false; unmatched: FindingSelector[] };

/** A finding a selector names: its identity and values, as `findings` holds them. */
type Match = Pick<FindingTable, 'charge_key' | 'code' | 'field' | 'entry_id' | 'ledger_value' | 'gateway_value'> & {
  /** 1-based position of the selector. */
  i: number;
};

const INSERT_BATCH = 1000;

/**
 * Acknowledges every finding the selectors name, on its current values (a change of values makes
 * it new again), one audit row per finding (a finding named twice takes the later note). All or
 * nothing: if any selector names no unresolved finding, nothing is written.
 */
export async function acknowledgeFindings(db: Kysely<Database>, selectors: readonly FindingSelector[]): Promise<AckOutcome> {
  return db.transaction().execute(async (trx) => {
    const found = await matchSelectors(trx, selectors);
    if (!found.ok) return found;
    const rows = [...found.findings.values()].map(({ match, selector }) => ({
      charge_key: match.charge_key,
      code: match.code,
      field: match.field,
      entry_id: match.entry_id,
      ledger_value: match.ledger_value,
      gateway_value: match.gateway_value,
      note: selector.note,
      acked_by: selector.by,
    }));
    for (let at = 0; at < rows.length; at += INSERT_BATCH) {
      await trx.insertInto('finding_acknowledgements').values(rows.slice(at, at + INSERT_BATCH)).execute();
    }
    return { ok: true, count: rows.length };
  });
}

/**
 * Records as undone every active acknowledgement of the findings the selectors name; the audit
 * rows stay. All or nothing, as {@link acknowledgeFindings}. `count` is the acknowledgements undone.
 */
export async function undoAcknowledgements(db: Kysely<Database>, selectors: readonly FindingSelector[]): Promise<AckOutcome> {
  return db.transaction().execute(async (trx) => {
    const found = await matchSelectors(trx, selectors);
    if (!found.ok) return found;
    const findings = [...found.findings.values()];
    const column = (pick: (f: (typeof findings)[number]) => string) => findings.map(pick);
    const result = await sql`
      UPDATE finding_acknowledgements a SET undone_at = now(), undone_by = k.by
      FROM unnest(${column((f) => f.match.charge_key)}::text[], ${column((f) => f.match.code)}::text[],
                  ${column((f) => f.match.field)}::text[], ${column((f) => f.match.entry_id)}::text[],
                  ${column((f) => f.selector.by)}::text[]) AS k(charge_key, code, field, entry_id, by)
      WHERE a.undone_at IS NULL
        AND a.charge_key = k.charge_key AND a.code = k.code AND a.field = k.field AND a.entry_id = k.entry_id`.execute(trx);
    return { ok: true, count: Number(result.numAffectedRows ?? 0n) };
  });
}

/** The selectors that name no unresolved finding (read only: for listing every bad line of a file). */
export async function unmatchedSelectors(db: Kysely<Database>, selectors: readonly FindingSelector[]): Promise<FindingSelector[]> {
  const found = await matchSelectors(db, selectors);
  return found.ok ? [] : found.unmatched;
}

type Found = { ok: true; findings: Map<string, { match: Match; selector: FindingSelector }> } | { ok: false; unmatched: FindingSelector[] };

/** Every selector's findings, in one query; each finding once, with the last selector naming it. */
async function matchSelectors(db: Kysely<Database>, selectors: readonly FindingSelector[]): Promise<Found> {
  const column = (pick: (s: FindingSelector) => string) => selectors.map(pick);
  const { rows } = await sql<Match>`
    SELECT s.i::int AS i, f.charge_key, f.code, f.field, f.entry_id, f.ledger_value, f.gateway_value
    FROM unnest(${column((s) => s.charge)}::text[], ${column((s) => s.code)}::text[],
                ${column((s) => s.field)}::text[], ${column((s) => s.entryId)}::text[])
      WITH ORDINALITY AS s(charge, code, field, entry_id, i)
    JOIN findings f ON f.resolved_run_id IS NULL AND f.code = s.code
      AND (f.charge_id = s.charge OR f.reference_order = s.charge OR f.charge_key = s.charge)
      AND (s.field = '' OR f.field = s.field)
      AND (s.entry_id = '' OR f.entry_id = s.entry_id)
    ORDER BY s.i`.execute(db);
  const named = new Set(rows.map((r) => r.i));
  const unmatched = selectors.filter((_, index) => !named.has(index + 1));
  if (unmatched.length) return { ok: false, unmatched };
  const findings = new Map<string, { match: Match; selector: FindingSelector }>();
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

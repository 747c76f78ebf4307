import { sql, type RawBuilder } from 'kysely';

/**
 * docs/reference.md §4.22: a finding is acknowledged while an acknowledgement of its identity, given on its
 * current values, has not been undone. As a lateral join on the finding's table alias `f`,
 * yielding `ack.acked_by` and `ack.note` (NULL when not acknowledged); the latest one wins.
 */
export function activeAcknowledgement(f: string): RawBuilder<unknown> {
  const col = (name: string) => sql.ref(`${f}.${name}`);
  return sql`LEFT JOIN LATERAL (
    SELECT a.acked_by, a.note FROM finding_acknowledgements a
    WHERE a.charge_key = ${col('charge_key')} AND a.code = ${col('code')} AND a.field = ${col('field')} AND a.entry_id = ${col('entry_id')}
      AND a.undone_at IS NULL
      AND a.ledger_value IS NOT DISTINCT FROM ${col('ledger_value')} AND a.gateway_value IS NOT DISTINCT FROM ${col('gateway_value')}
    ORDER BY a.id DESC LIMIT 1) ack ON true`;
}

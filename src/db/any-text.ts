import { sql, type RawBuilder } from 'kysely';

/**
 * `column = ANY($1::text[])` in the builder (`.where('entry_id', '=', anyText(ids))`): a list of
 * any length as one parameter, where an `IN` list takes a parameter per value (at most 65,535).
 */
export function anyText(values: readonly string[]): RawBuilder<string> {
  return sql<string>`ANY(${values}::text[])`;
}

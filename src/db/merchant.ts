import { checkMid } from '../config/merchant-id.ts';

/** The schema that holds one merchant's tables. Two mids differing only in case or `-`/`_` share it: refuse such a pair (see {@link midIdentity}). */
export function merchantSchema(mid: string): string {
  return `kpgw_${mid.toLowerCase().replaceAll('-', '_')}`;
}

/** The comment on a merchant's schema that records its mid (the schema's name folds case, `-` and `_`). */
export const SCHEMA_NOTE_PREFIX = 'kpgw-recon merchant ';

/**
 * The database URL a merchant's connections use: its schema first on the search_path (so every
 * statement of ours, unchanged, reads and writes its tables), and `kpgw.merchant` set, which the
 * tables' `merchant` columns take as their default. '' is the single merchant: the URL as given.
 */
export function urlForMerchant(url: string, mid: string): string {
  if (!mid) return url;
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${merchantSchema(checkMid(mid, 'merchant'))} -c kpgw.merchant=${mid}`);
  return parsed.toString();
}

import { ReconError } from '../errors.ts';

/**
 * A merchant's id as the merchants file and `RECON_MERCHANT` give it: letters, digits, `_` and
 * `-` (a KBank MID is digits), since it names the merchant's schema and report folder.
 */
const MID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;

/** What {@link isMid} accepts, in words, for messages. */
export const MID_RULE = "1 to 40 letters, digits, '_' or '-'";

export function isMid(mid: string): boolean {
  return MID.test(mid);
}

export function checkMid(mid: string, where: string): string {
  if (!MID.test(mid)) throw new ReconError('CONFIG', `${where}: merchant id '${mid}' must be ${MID_RULE}`);
  return mid;
}

/**
 * Two mids are one merchant's when they are equal once letter case, `-` and `_` are ignored:
 * their schemas would be one (or be told apart by a dash alone), so such a pair is refused.
 */
export function midIdentity(mid: string): string {
  return mid.toLowerCase().replace(/[-_]/g, '');
}

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

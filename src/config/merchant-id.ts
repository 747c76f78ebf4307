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

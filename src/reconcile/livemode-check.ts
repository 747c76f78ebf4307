import type { GatewayCharge } from '../gateway/charge.ts';
import type { Mismatch } from './mismatch.ts';

/** The environment a secret key belongs to: `skey_prod_…` live, `skey_test_…` test, else unknown. */
export type KeyMode = 'live' | 'test';

export function keyModeOf(secretKey: string): KeyMode | undefined {
  if (secretKey.startsWith('skey_prod_')) return 'live';
  if (secretKey.startsWith('skey_test_')) return 'test';
  return undefined;
}

/**
 * docs/reference.md §4.3, livemode: an answer from the other environment than the key's (a sandbox
 * answer while reconciling production books, or the reverse) says nothing about these books.
 * An answer without a readable `livemode`, or a key of no known mode, is not a mismatch.
 */
export function checkLivemode(gateway: GatewayCharge, keyMode: KeyMode | undefined, entryId: string | null): Mismatch | undefined {
  if (keyMode === undefined || gateway.livemode === null) return undefined;
  const expected = keyMode === 'live';
  if (gateway.livemode === expected) return undefined;
  return {
    code: 'LIVEMODE_MISMATCH',
    entryId,
    field: 'livemode',
    ledgerValue: String(expected),
    gatewayValue: String(gateway.livemode),
    message: `the gateway answered from its ${gateway.livemode ? 'live' : 'test'} environment, but the key is a ${keyMode} key; nothing else compared`,
  };
}

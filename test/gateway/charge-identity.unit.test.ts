import { describe, expect, it } from 'vitest';
import { parseCharge, type GatewayCharge } from '../../src/gateway/charge.ts';
import { identityProblem } from '../../src/gateway/charge-identity.ts';

function charge(ids: { id: string; reference_order?: string; order_id?: string }): GatewayCharge {
  const result = parseCharge({ amount: '1.00', ...ids });
  if (!result.ok) throw new Error(result.reason);
  return result.charge;
}

describe('an answer belongs to the charge asked for', () => {
  const card = charge({ id: 'chrg_A', reference_order: 'REF-A' });
  const qr = charge({ id: 'chrg_Q', order_id: 'order_Q' });

  it('asked by charge id, by reference order or by order id, with the ledger ids agreeing or unknown', () => {
    expect(identityProblem({ family: 'card', id: 'chrg_A', known: { chargeId: 'chrg_A', referenceOrder: 'REF-A', orderId: null } }, card)).toBeUndefined();
    expect(identityProblem({ family: 'card', id: 'REF-A', known: { referenceOrder: 'REF-A' } }, card)).toBeUndefined();
    expect(identityProblem({ family: 'qr', id: 'order_Q', known: { chargeId: null, orderId: 'order_Q' } }, qr)).toBeUndefined();
    // An id the answer leaves out contradicts nothing.
    expect(identityProblem({ family: 'card', id: 'chrg_A', known: { orderId: 'order_X' } }, card)).toBeUndefined();
    expect(identityProblem({ family: 'card', id: 'chrg_A' }, card)).toBeUndefined();
  });

  it('not the id asked for', () => {
    expect(identityProblem({ family: 'card', id: 'chrg_B' }, card)).toBe('answer is about another charge: asked for chrg_B, answered about chrg_A');
    // Ids are compared exactly: the gateway's ids are case-sensitive.
    expect(identityProblem({ family: 'card', id: 'ref-a' }, card)).toBe('answer is about another charge: asked for ref-a, answered about chrg_A');
  });

  it.each([
    [{ chargeId: 'chrg_B' }, "its charge id is chrg_A, the ledger's is chrg_B"],
    [{ referenceOrder: 'REF-B' }, "its reference_order is REF-A, the ledger's is REF-B"],
  ])('a ledger id the answer contradicts (%o), even when the id asked is there', (known, reason) => {
    expect(identityProblem({ family: 'card', id: 'REF-A', known }, card)).toBe(`answer is about another charge: ${reason}`);
  });

  it('a contradicting order id on a QR answer', () => {
    expect(identityProblem({ family: 'qr', id: 'chrg_Q', known: { chargeId: 'chrg_Q', orderId: 'order_R' } }, qr)).toBe(
      "answer is about another charge: its order_id is order_Q, the ledger's is order_R",
    );
  });
});

import type { GatewayCharge } from './charge.ts';
import type { InquiryRequest } from './inquiry-path.ts';

/**
 * Why an answer is not about the charge asked for, or `undefined` when it is. It must carry the
 * id we asked by (as `id`, `reference_order` or `order_id`) and contradict none of the ids the
 * ledger knows: a gateway, cache or proxy that answers about another charge would otherwise
 * have that charge matched, and its id stored, against ours.
 */
export function identityProblem(request: InquiryRequest, charge: GatewayCharge): string | undefined {
  const known = request.known ?? {};
  const pairs: [field: string, ledger: string | null | undefined, gateway: string | null][] = [
    ['charge id', known.chargeId, charge.id],
    ['reference_order', known.referenceOrder, charge.referenceOrder],
    ['order_id', known.orderId, charge.orderId],
  ];
  for (const [field, ledger, gateway] of pairs) {
    if (ledger && gateway && ledger !== gateway) {
      return `answer is about another charge: its ${field} is ${gateway}, the ledger's is ${ledger}`;
    }
  }
  if (![charge.id, charge.referenceOrder, charge.orderId].includes(request.id)) {
    return `answer is about another charge: asked for ${request.id}, answered about ${charge.id}`;
  }
  return undefined;
}

import type { GatewayCharge } from './charge.ts';
import type { InquiryRequest } from './inquiry-path.ts';

/**
 * Why an answer is not about the charge asked for, or `undefined` when it is. It must carry the
 * id we asked by (as `id`, `reference_order` or `order_id`) and contradict none of the ids the
 * ledger knows: a gateway, cache or proxy that answers about another charge would otherwise
 * have that charge matched, and its id stored, against ours.
 */
export function identityProblem(request: InquiryRequest, charge: GatewayCharge): string | undefined {
  // Written out rather than looped over a list of pairs: it runs for every answer of a run.
  const known = request.known;
  if (known) {
    const contradiction =
      contradicts('charge id', known.chargeId, charge.id) ??
      contradicts('reference_order', known.referenceOrder, charge.referenceOrder) ??
      contradicts('order_id', known.orderId, charge.orderId);
    if (contradiction) return contradiction;
  }
  if (request.id !== charge.id && request.id !== charge.referenceOrder && request.id !== charge.orderId) {
    return `answer is about another charge: asked for ${request.id}, answered about ${charge.id}`;
  }
  return undefined;
}

function contradicts(field: string, ledger: string | null | undefined, gateway: string | null): string | undefined {
  return ledger && gateway && ledger !== gateway ? `answer is about another charge: its ${field} is ${gateway}, the ledger's is ${ledger}` : undefined;
}

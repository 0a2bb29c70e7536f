// One call for an inbound message: tenant routing rules, then the red-flag override. The decision
// lists rule ids (and `red-flag:<term>` ids) so the ticket timeline can record why it was routed.
import type { RedFlagDetector, RedFlagResult } from './red-flags';
import type { Router, RoutingDecision, TriageInput } from './routing-engine';

export interface TriageResult extends RoutingDecision {
  redFlag: RedFlagResult;
}

export interface Triage {
  router: Router;
  redFlags: RedFlagDetector;
}

/**
 * Route a message. A red flag overrides whatever the rules said about priority and queue (the
 * patient's safety outranks tenant configuration); category, language and the rest stay as routed.
 */
export function triageMessage(input: TriageInput, { router, redFlags }: Triage): TriageResult {
  const decision = router.route(input);
  const text = input.subject ? `${input.subject}\n${input.body}` : input.body;
  // The safety script follows the language we will answer in (message, else patient preference).
  const language = decision.language === 'es' || decision.language === 'en' ? decision.language : undefined;
  const redFlag = redFlags.detect(text, { language });
  const result: TriageResult = { ...decision, redFlag };
  if (redFlag.flagged && redFlag.action) {
    const ids = [...new Set(redFlag.matches.map((m) => `red-flag:${m.termId}`))];
    result.matchedRuleIds = [...ids, ...decision.matchedRuleIds];
    result.priority = redFlag.action.priority;
    result.queue = redFlag.action.queue;
    result.setBy = { ...decision.setBy, priority: ids[0], queue: ids[0] };
    // Only fill the category when no rule chose one: "can't pay this bill and want to die" stays a
    // billing ticket for reporting, while its queue and priority are clinical.
    if (decision.setBy.category === undefined || decision.setBy.category === 'default') {
      result.category = redFlag.action.category;
      result.setBy.category = ids[0];
    }
  }
  return result;
}

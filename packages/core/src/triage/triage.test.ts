import { describe, expect, it } from 'vitest';
import { defaultRoutingFallback, defaultRoutingRules } from './default-rules';
import { RedFlagDetector } from './red-flags';
import { Router } from './routing-engine';
import { triageMessage } from './triage';

const triage = {
  router: new Router(defaultRoutingRules, { defaults: defaultRoutingFallback }),
  redFlags: new RedFlagDetector(),
};

describe('triage of one message', () => {
  it('routes an ordinary message by the rules and names them', () => {
    const result = triageMessage({ channel: 'sms', body: 'need a refill on my inhaler pls' }, triage);
    expect(result).toMatchObject({ category: 'prescription', queue: 'pharmacy', priority: 'normal', language: 'en' });
    expect(result.setBy.category).toBe('category.prescription');
    expect(result.redFlag.flagged).toBe(false);
  });

  it('overrides priority and queue on a red flag but keeps the routed category', () => {
    const result = triageMessage({ channel: 'sms', body: 'i cant pay this bill and i want to kill myself' }, triage);
    expect(result).toMatchObject({ category: 'billing', queue: 'clinical-escalation', priority: 'urgent' });
    expect(result.matchedRuleIds[0]).toBe('red-flag:en.suicide');
    expect(result.setBy).toMatchObject({ queue: 'red-flag:en.suicide', category: 'category.billing' });
  });

  it('categorises an otherwise uncategorised red flag as care coordination', () => {
    const result = triageMessage({ channel: 'chat', body: 'i think im having a heart attack' }, triage);
    expect(result).toMatchObject({ category: 'care-coordination', priority: 'urgent' });
    expect(result.setBy.category).toBe('red-flag:en.chest-pain');
  });

  it('answers in Spanish through the bilingual team when the patient writes Spanish', () => {
    const result = triageMessage(
      { channel: 'portal', body: 'No puedo entrar al portal, olvidé mi contraseña' },
      triage,
    );
    expect(result).toMatchObject({ category: 'portal-access', language: 'es', team: 'bilingual' });
  });

  it('uses the patient preferred language when the message gives no signal', () => {
    const result = triageMessage({ channel: 'sms', body: 'T-1042 ok', patient: { language: 'es-US' } }, triage);
    expect(result.language).toBe('es');
    expect(result.setBy.language).toBe('lang.es-patient');
  });

  it('routes any message on a ticket linked to an EOB to disputes', () => {
    const result = triageMessage(
      { channel: 'email', body: 'see attached', linkedResourceTypes: ['ExplanationOfBenefit'] },
      triage,
    );
    expect(result).toMatchObject({ category: 'claim-dispute', queue: 'disputes' });
  });
});

describe('triage safety script language', () => {
  it('gives the Spanish script to a Spanish-preferring patient whose message has no language signal', () => {
    const result = triageMessage({ channel: 'sms', body: 'chest pain!!', patient: { language: 'es' } }, triage);
    expect(result.redFlag.flagged).toBe(true);
    // "chest pain!!" alone has no stop words, so routing falls back to the patient preference.
    expect(result.language).toBe('es');
    expect(result.redFlag.safetyPrompt?.language).toBe('es');
  });
});

import { describe, expect, it } from 'vitest';
import { Router } from './routing-engine';
import { parseRoutingRules, type RoutingRule } from './routing-rule';

const rules = (json: unknown) => parseRoutingRules(json);

describe('routing engine', () => {
  it('stops at the first matching rule by default', () => {
    const router = new Router(
      rules([
        { id: 'billing', when: { text: { any: ['bill'] } }, set: { category: 'billing', queue: 'billing' } },
        { id: 'also', when: { text: { any: ['bill'] } }, set: { priority: 'high' } },
      ]),
    );
    const d = router.route({ channel: 'sms', body: 'my bill is wrong' });
    expect(d).toMatchObject({ category: 'billing', queue: 'billing', matchedRuleIds: ['billing'] });
    expect(d.priority).toBeUndefined();
  });

  it('with continue, later rules fill only fields still unset and each field names its rule', () => {
    const router = new Router(
      rules([
        { id: 'sms-high', when: { channels: ['sms'] }, set: { priority: 'high' }, continue: true },
        { id: 'urgent', when: { text: { any: ['asap'] } }, set: { priority: 'urgent' }, continue: true },
        { id: 'billing', when: { text: { any: ['bill'] } }, set: { category: 'billing', queue: 'billing' } },
      ]),
    );
    const d = router.route({ channel: 'sms', body: 'fix my bill asap' });
    expect(d.matchedRuleIds).toEqual(['sms-high', 'urgent', 'billing']);
    expect(d.priority).toBe('high');
    expect(d.setBy).toEqual({ priority: 'sms-high', category: 'billing', queue: 'billing' });
  });

  it('fills unset fields from defaults and says so', () => {
    const d = new Router([], { defaults: { category: 'general-info', queue: 'front-desk' } }).route({
      channel: 'chat',
      body: 'hi',
    });
    expect(d).toMatchObject({ category: 'general-info', setBy: { category: 'default', queue: 'default' } });
    expect(d.matchedRuleIds).toEqual([]);
  });

  it('skips disabled rules', () => {
    const router = new Router(
      rules([
        { id: 'off', enabled: false, when: {}, set: { queue: 'x' } },
        { id: 'on', when: {}, set: { queue: 'y' } },
      ]),
    );
    expect(router.route({ channel: 'email', body: '' }).queue).toBe('y');
  });

  it('matches keywords in the subject as well as the body', () => {
    const router = new Router(rules([{ id: 'r', when: { text: { any: ['refill'] } }, set: { queue: 'pharmacy' } }]));
    expect(router.route({ channel: 'email', subject: 'Refill request', body: 'see above' }).queue).toBe('pharmacy');
  });

  it('requires every keyword for all and fails on any none keyword', () => {
    const router = new Router(
      rules([
        {
          id: 'r',
          when: { text: { all: ['chest', 'bill'], none: ['paid'] } },
          set: { queue: 'imaging-billing' },
        },
      ]),
    );
    expect(router.route({ channel: 'sms', body: 'chest x-ray bill' }).queue).toBe('imaging-billing');
    expect(router.route({ channel: 'sms', body: 'chest x-ray' }).queue).toBeUndefined();
    expect(router.route({ channel: 'sms', body: 'chest x-ray bill, already paid' }).queue).toBeUndefined();
  });

  it('conditions on channel, patient language, payer and linked resource types together', () => {
    const router = new Router(
      rules([
        {
          id: 'medicaid-es-claims',
          when: {
            channels: ['phone', 'sms'],
            patient: { languages: ['es'], payers: ['Medicaid Estatal'] },
            linkedResourceTypes: ['ExplanationOfBenefit'],
          },
          set: { team: 'medicaid-es', assignee: 'user-42' },
        },
      ]),
    );
    const base = {
      channel: 'sms' as const,
      body: 'hola',
      patient: { language: 'es-MX', coveragePayers: ['MEDICAID ESTATAL'] },
      linkedResourceTypes: ['Patient', 'ExplanationOfBenefit'] as const,
    };
    expect(router.route({ ...base, linkedResourceTypes: [...base.linkedResourceTypes] })).toMatchObject({
      team: 'medicaid-es',
      assignee: 'user-42',
    });
    expect(
      router.route({ ...base, channel: 'email', linkedResourceTypes: ['ExplanationOfBenefit'] }).team,
    ).toBeUndefined();
    expect(
      router.route({ ...base, patient: { language: 'en-US', coveragePayers: ['Medicaid Estatal'] } }).team,
    ).toBeUndefined();
    expect(router.route({ ...base, linkedResourceTypes: ['Claim'] }).team).toBeUndefined();
    expect(router.route({ channel: 'sms', body: 'hola' }).team).toBeUndefined();
  });

  it('conditions on the detected message language', () => {
    const router = new Router(rules([{ id: 'es', when: { messageLanguages: ['es'] }, set: { language: 'es' } }]));
    const d = router.route({ channel: 'chat', body: '¿Dónde está mi factura? Gracias' });
    expect(d.language).toBe('es');
    expect(d.detectedLanguage.language).toBe('es');
  });

  it('matches a tenant regex case-insensitively', () => {
    const router = new Router(
      rules([{ id: 'mrn', when: { text: { regex: 'mrn\\s*\\d{6}' } }, set: { queue: 'records' } }]),
    );
    expect(router.route({ channel: 'email', body: 'My MRN 123456' }).queue).toBe('records');
  });

  it('skips a rule whose regex runs out of time and reports a warning instead of hanging', () => {
    // Constructed directly: the schema would refuse this pattern on save.
    const slow: RoutingRule = {
      id: 'slow',
      enabled: true,
      continue: false,
      when: { text: { regex: '^(a+)+$' } },
      set: { queue: 'never' },
    };
    const fallback: RoutingRule = { id: 'next', enabled: true, continue: false, when: {}, set: { queue: 'next' } };
    const d = new Router([slow, fallback]).route({ channel: 'sms', body: `${'a'.repeat(40)}!` });
    expect(d.warnings).toEqual([{ ruleId: 'slow', problem: 'regex-timeout' }]);
    expect(d.queue).toBe('next');
  });
});

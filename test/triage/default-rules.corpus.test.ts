// Runs the shipped default rules and red-flag list over the labelled EN/ES corpus (issue #6).
// Accuracy is printed for tuning (test output over a synthetic corpus, no PHI; it lives in test/, not server
// source); a red-flag message that is not flagged fails the test outright.
import { readFileSync } from 'node:fs';
import {
  defaultRoutingFallback,
  defaultRoutingRules,
  RedFlagDetector,
  Router,
  type TicketCategory,
  type TicketChannel,
  ticketCategories,
  ticketChannels,
  triageMessage,
} from '@fhirdesk/core';
import { describe, expect, it } from 'vitest';

interface CorpusMessage {
  id: string;
  channel: TicketChannel;
  text: string;
  category: TicketCategory;
  redFlag: boolean;
  /** Written after the default rules were tuned; reported separately as an honest estimate. */
  holdout?: boolean;
}

const accuracyFloor = 0.85;
const languages = ['en', 'es'] as const;

function loadCorpus(language: string): CorpusMessage[] {
  const url = new URL(`../data/triage/corpus.${language}.json`, import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { messages: CorpusMessage[] }).messages;
}

const triage = {
  router: new Router(defaultRoutingRules, { defaults: defaultRoutingFallback }),
  redFlags: new RedFlagDetector(),
};
const corpora = Object.fromEntries(languages.map((l) => [l, loadCorpus(l)])) as Record<
  (typeof languages)[number],
  CorpusMessage[]
>;

describe('default rules over the labelled corpus', () => {
  it.each(languages)('the %s corpus is well formed: ≥ 200 messages, ≥ 25 red flags, every category', (language) => {
    const messages = corpora[language];
    expect(messages.length).toBeGreaterThanOrEqual(200);
    expect(messages.filter((m) => m.redFlag).length).toBeGreaterThanOrEqual(25);
    expect(new Set(messages.map((m) => m.id)).size).toBe(messages.length);
    for (const m of messages) {
      expect(ticketCategories).toContain(m.category);
      expect(ticketChannels).toContain(m.channel);
    }
    expect(new Set(messages.map((m) => m.category)).size).toBe(ticketCategories.length);
  });

  it('categorises at least 85% of messages correctly per language and overall', () => {
    let correctTotal = 0;
    let total = 0;
    const lines: string[] = [];
    for (const language of languages) {
      const messages = corpora[language];
      const correct = messages.filter(
        (m) => triageMessage({ channel: m.channel, body: m.text }, triage).category === m.category,
      ).length;
      const accuracy = correct / messages.length;
      lines.push(`${language}: ${(accuracy * 100).toFixed(1)}% (${correct}/${messages.length})`);
      expect(accuracy, `${language} accuracy`).toBeGreaterThanOrEqual(accuracyFloor);
      correctTotal += correct;
      total += messages.length;
    }
    lines.push(`overall: ${((correctTotal / total) * 100).toFixed(1)}% (${correctTotal}/${total})`);
    for (const language of languages) {
      const held = corpora[language].filter((m) => m.holdout);
      const right = held.filter(
        (m) => triageMessage({ channel: m.channel, body: m.text }, triage).category === m.category,
      );
      lines.push(`${language} holdout only (not used to tune categories): ${right.length}/${held.length}`);
    }
    console.info(`[triage corpus] category accuracy\n  ${lines.join('\n  ')}`);
    expect(correctTotal / total).toBeGreaterThanOrEqual(accuracyFloor);
  });

  it.each(languages)('flags every red-flag message in the %s corpus and prints the false-positive rate', (language) => {
    const messages = corpora[language];
    const missed: string[] = [];
    let falsePositives = 0;
    let negatives = 0;
    for (const m of messages) {
      const flagged = triage.redFlags.detect(m.text).flagged;
      if (m.redFlag && !flagged) missed.push(m.id);
      if (!m.redFlag) {
        negatives++;
        if (flagged) falsePositives++;
      }
    }
    console.info(
      `[triage corpus] ${language} red flags: ${messages.length - negatives} positives, missed ${missed.length}; ` +
        `false positives ${falsePositives}/${negatives} (${((falsePositives / negatives) * 100).toFixed(1)}%)`,
    );
    expect(missed, 'red-flag messages that were not flagged').toEqual([]);
  });

  it.each(languages)('detects the language of the %s corpus for routing', (language) => {
    const messages = corpora[language];
    const wrong = messages.filter(
      (m) => triageMessage({ channel: m.channel, body: m.text }, triage).language !== language,
    );
    expect(wrong.length / messages.length).toBeLessThanOrEqual(0.05);
  });
});

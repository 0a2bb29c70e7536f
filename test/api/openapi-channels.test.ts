// /openapi.json documents the channel routes (issue #6): inbound webhooks with their two security
// schemes, conversations, metrics, escalations (incl. the safety-script acknowledgement), surveys and
// assignment settings, with request schemas taken from the zod schemas the handlers validate with.
import type { Database } from '@fhirdesk/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app';
import { openTestDatabase } from '../support/db';

let database: Database;
let t: TestApp;
beforeAll(async () => {
  database = await openTestDatabase();
  t = buildTestApp(database);
});
afterAll(async () => {
  await database.close();
});

interface Operation {
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  parameters?: { name: string; in: string }[];
  responses: Record<string, unknown>;
}
type Doc = {
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
};

describe('OpenAPI document for the channel routes', () => {
  it('lists every channel, metrics, escalation, survey and assignment path with its methods', async () => {
    const res = await t.app.request('/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Doc;
    const methods = (path: string) => Object.keys(doc.paths[path] ?? {}).sort();
    for (const channel of ['email', 'sms', 'chat', 'portal']) expect(methods(`/inbound/${channel}`)).toEqual(['post']);
    expect(methods('/api/v1/conversations/integration-keys')).toEqual(['post']);
    expect(methods('/api/v1/conversations/tickets/{id}/patient')).toEqual(['put']);
    expect(methods('/api/v1/conversations/tickets/{id}/routing')).toEqual(['put']);
    expect(methods('/api/v1/metrics')).toEqual(['get']);
    expect(methods('/api/v1/escalations')).toEqual(['get', 'post']);
    expect(methods('/api/v1/escalations/{id}/retry')).toEqual(['post']);
    expect(methods('/api/v1/escalations/acknowledgements')).toEqual(['post']);
    expect(methods('/survey/{token}')).toEqual(['get', 'post']);
    expect(methods('/api/v1/assignment/agents')).toEqual(['get']);
    expect(methods('/api/v1/assignment/agents/{id}')).toEqual(['put']);
    expect(methods('/api/v1/assignment/queues/{queue}')).toEqual(['put']);
    expect(methods('/api/v1/assignment/me/availability')).toEqual(['put']);
    expect(methods('/api/v1/channel-settings')).toEqual(['get']);
    expect(methods('/api/v1/channel-settings/outbound')).toEqual(['put']);
    expect(methods('/api/v1/channel-settings/sla-webhook')).toEqual(['delete', 'put']);
    expect(methods('/api/v1/channel-settings/integration-keys')).toEqual(['get', 'post']);
    expect(methods('/api/v1/channel-settings/integration-keys/{id}/rotate')).toEqual(['post']);
  });

  it('documents channel secrets as write-only: request bodies take them, responses only summarise them', async () => {
    const doc = (await (await t.app.request('/openapi.json')).json()) as Doc;
    const text = (schema: unknown) => JSON.stringify(schema);
    const put = doc.paths['/api/v1/channel-settings/outbound']!.put!;
    expect(text(put.requestBody)).toContain('SetOutboundSettings');
    const settings = text(doc.components.schemas.ChannelSettings);
    expect(settings).toContain('SecretSummary');
    expect(settings).not.toMatch(/"pass"|"secret":\{"type":"string"/);
    const escalate = text(doc.paths['/api/v1/escalations']!.post!.requestBody);
    expect(escalate).toContain('performerType');
  });

  it('describes inbound security, the SMS form body, the metrics query and the escalation body', async () => {
    const doc = (await (await t.app.request('/openapi.json')).json()) as Doc;
    expect(Object.keys(doc.components.securitySchemes)).toEqual(
      expect.arrayContaining(['bearerAuth', 'integrationApiKey', 'integrationSignature']),
    );
    const sms = doc.paths['/inbound/sms']!.post!;
    expect(sms.security).toEqual([{ integrationApiKey: [] }, { integrationSignature: [] }]);
    expect(Object.keys(sms.requestBody!.content).sort()).toEqual([
      'application/json',
      'application/x-www-form-urlencoded',
    ]);
    const metrics = doc.paths['/api/v1/metrics']!.get!;
    expect(metrics.parameters!.map((p) => `${p.in}:${p.name}`).sort()).toEqual([
      'query:agent',
      'query:from',
      'query:queue',
      'query:to',
    ]);
    expect(doc.components.schemas).toHaveProperty('DeskMetrics');
    const escalate = doc.paths['/api/v1/escalations']!.post!;
    const schema = escalate.requestBody!.content['application/json']!.schema as { required?: string[] };
    expect(schema.required).toEqual(expect.arrayContaining(['ticketId', 'reason', 'message']));
    expect(Object.keys(escalate.responses).sort()).toEqual(expect.arrayContaining(['201', '202', '400']));
  });
});

// Every ticket route's success and failure paths, through app.request() against the run's real database.
import type { Database } from '@fhirdesk/core';
import { schema } from '@fhirdesk/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildTestApp,
  createTenantWithAgent,
  createTestUser,
  jsonRequest,
  newTicket,
  type TestApp,
  type TestUser,
} from '../support/app';
import { openTestDatabase } from '../support/db';
import { tenantRowCounts } from '../support/snapshot';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field against literal expectations
type Body = Record<string, any>;

let database: Database;
let t: TestApp;
let agent: TestUser;

beforeAll(async () => {
  database = await openTestDatabase();
  t = buildTestApp(database);
  agent = await createTenantWithAgent(database, t.keys);
});
afterAll(async () => {
  await t.sealer.flush();
  await database.close();
});

async function call(path: string, init: RequestInit) {
  const res = await t.app.request(path, init);
  const text = await res.text();
  return { res, status: res.status, body: text ? (JSON.parse(text) as Body) : null };
}
const create = (user: TestUser, body: unknown = newTicket()) =>
  call('/api/v1/tickets', jsonRequest(user.token, 'POST', body));

describe('POST /api/v1/tickets', () => {
  it('creates a ticket with a human number, ETag, Location and a created event', async () => {
    const { res, status, body } = await create(
      agent,
      // In person: exempt from caller verification (issue #6), so the write echoes the patient.
      newTicket({ channel: 'in-person', priority: 'high', queue: 'billing', language: 'es-MX' }),
    );
    expect(status).toBe(201);
    expect(body!.number).toMatch(/^T-\d+$/);
    expect(body).toMatchObject({
      status: 'new',
      priority: 'high',
      queue: 'billing',
      language: 'es-MX',
      patient: 'Patient/example',
      version: 1,
    });
    expect(res.headers.get('etag')).toBe('W/"1"');
    expect(res.headers.get('location')).toBe(`/api/v1/tickets/${body!.id}`);
    const timeline = await call(`/api/v1/tickets/${body!.id}/timeline`, jsonRequest(agent.token, 'GET'));
    expect(timeline.body!.items.map((e: { type: string }) => e.type)).toEqual(['created']);
  });

  it('numbers tickets per tenant starting at T-1001', async () => {
    const other = await createTenantWithAgent(database, t.keys);
    const first = await create(other);
    const second = await create(other);
    expect([first.body!.number, second.body!.number]).toEqual(['T-1001', 'T-1002']);
  });

  it('creates a ticket pre-linked to a claim and its coverage', async () => {
    const { status, body } = await create(
      agent,
      newTicket({
        category: 'claim-dispute',
        channel: 'in-person',
        links: [
          { reference: 'Claim/100150', role: 'disputed-claim' },
          { reference: 'Coverage/9876B1', role: 'coverage-in-question' },
        ],
      }),
    );
    expect(status).toBe(201);
    expect(body!.links.map((l: { reference: string; role: string }) => `${l.reference}:${l.role}`)).toEqual([
      'Claim/100150:disputed-claim',
      'Coverage/9876B1:coverage-in-question',
    ]);
  });

  it('rejects an assignee from another tenant without writing anything', async () => {
    const other = await createTenantWithAgent(database, t.keys);
    const before = await tenantRowCounts(database, agent.tenantId);
    const { status, body } = await create(agent, newTicket({ assigneeId: other.id }));
    expect(status).toBe(400);
    expect(body!.errors).toEqual([{ field: 'assigneeId', message: 'no active user with this id in the tenant' }]);
    expect(await tenantRowCounts(database, agent.tenantId)).toEqual(before);
  });
});

describe('GET /api/v1/tickets/{id}', () => {
  it('returns the ticket with its links and ETag', async () => {
    const created = await create(
      agent,
      // In person: no caller verification needed, so links are shown (phone tickets: verification.test.ts).
      newTicket({ channel: 'in-person', links: [{ reference: 'ExplanationOfBenefit/EB3500', role: 'eob' }] }),
    );
    const { res, status, body } = await call(`/api/v1/tickets/${created.body!.id}`, jsonRequest(agent.token, 'GET'));
    expect(status).toBe(200);
    expect(body!.links[0].reference).toBe('ExplanationOfBenefit/EB3500');
    expect(res.headers.get('etag')).toBe('W/"1"');
  });

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    expect(
      (await call('/api/v1/tickets/00000000-0000-4000-8000-000000000000', jsonRequest(agent.token, 'GET'))).status,
    ).toBe(404);
    const bad = await call('/api/v1/tickets/not-a-uuid', jsonRequest(agent.token, 'GET'));
    expect(bad.status).toBe(400);
    expect(bad.body!.errors[0].field).toBe('id');
  });
});

describe('GET /api/v1/tickets (list and search)', () => {
  let lister: TestUser;
  const ids: string[] = [];
  beforeAll(async () => {
    lister = await createTenantWithAgent(database, t.keys);
    const specs = [
      {
        subject: 'Denied MRI claim',
        category: 'claim-dispute',
        priority: 'urgent',
        queue: 'billing',
        patient: 'Patient/p1',
      },
      {
        subject: 'Portal password reset',
        category: 'portal-access',
        priority: 'low',
        queue: 'it',
        patient: 'Patient/p2',
      },
      {
        subject: 'Refill for lisinopril',
        category: 'prescription',
        priority: 'normal',
        queue: 'pharmacy',
        patient: 'Patient/p1',
      },
      {
        subject: 'Second denied claim 50% off?',
        category: 'claim-dispute',
        priority: 'high',
        queue: 'billing',
        patient: 'Patient/p3',
      },
      { subject: 'Where is my EOB', category: 'insurance', priority: 'normal', queue: 'billing', patient: null },
    ];
    for (const s of specs) ids.push((await create(lister, newTicket({ channel: 'chat', ...s }))).body!.id);
    await call(`/api/v1/tickets/${ids[0]}/status`, jsonRequest(lister.token, 'POST', { status: 'open' }));
    await call(`/api/v1/tickets/${ids[0]}/assignment`, jsonRequest(lister.token, 'POST', { assigneeId: lister.id }));
  });
  const list = async (query: string) => (await call(`/api/v1/tickets${query}`, jsonRequest(lister.token, 'GET'))).body!;
  const subjects = (page: Body) => (page.items as { subject: string }[]).map((i) => i.subject);

  it('lists newest first and filters by status, category, queue, priority, assignee and patient', async () => {
    expect(subjects(await list(''))).toEqual([
      'Where is my EOB',
      'Second denied claim 50% off?',
      'Refill for lisinopril',
      'Portal password reset',
      'Denied MRI claim',
    ]);
    expect(subjects(await list('?status=open'))).toEqual(['Denied MRI claim']);
    expect(subjects(await list('?category=claim-dispute&queue=billing'))).toEqual([
      'Second denied claim 50% off?',
      'Denied MRI claim',
    ]);
    expect(subjects(await list('?priority=low,urgent'))).toEqual(['Portal password reset', 'Denied MRI claim']);
    expect(subjects(await list(`?assignee=${lister.id}`))).toEqual(['Denied MRI claim']);
    expect(subjects(await list('?patient=Patient/p1'))).toEqual(['Refill for lisinopril', 'Denied MRI claim']);
  });

  it('searches text in the subject, treating % and _ literally', async () => {
    expect(subjects(await list('?q=denied'))).toEqual(['Second denied claim 50% off?', 'Denied MRI claim']);
    expect(subjects(await list('?q=50%25'))).toEqual(['Second denied claim 50% off?']);
    expect(subjects(await list('?q=_'))).toEqual([]);
  });

  it('pages with a cursor in a stable order, both directions', async () => {
    const seen: string[] = [];
    let page = await list('?limit=2');
    seen.push(...subjects(page));
    while (page.nextCursor) {
      page = await list(`?limit=2&cursor=${page.nextCursor}`);
      seen.push(...subjects(page));
    }
    expect(seen).toEqual(subjects(await list('')));
    const ascending = await list('?sort=created_asc&limit=10');
    expect(subjects(ascending)).toEqual([...seen].reverse());
  });

  it('rejects unknown filter values, unknown parameters and forged cursors', async () => {
    const bad = await call('/api/v1/tickets?status=opened', jsonRequest(lister.token, 'GET'));
    expect(bad.status).toBe(400);
    expect(bad.body!.errors[0].message).toMatch(/unknown value\(s\) opened; allowed: new, open/);
    expect((await call('/api/v1/tickets?colour=red', jsonRequest(lister.token, 'GET'))).status).toBe(400);
    const cursor = await call('/api/v1/tickets?cursor=bm90LWEtY3Vyc29y', jsonRequest(lister.token, 'GET'));
    expect(cursor.status).toBe(400);
    expect(cursor.body!.errors[0].field).toBe('cursor');
  });

  it('audits one search event plus one per patient in the results (AUD-04)', async () => {
    const before = await database.db.$count(schema.auditEvent);
    await list('?category=claim-dispute');
    const after = await database.db.$count(schema.auditEvent);
    expect(after - before).toBe(3); // the query + Patient/p1 + Patient/p3
  });
});

describe('PATCH /api/v1/tickets/{id}', () => {
  it('updates fields with If-Match and records what changed on the timeline', async () => {
    const created = await create(agent);
    const id = created.body!.id;
    const { res, status, body } = await call(
      `/api/v1/tickets/${id}`,
      jsonRequest(agent.token, 'PATCH', { priority: 'urgent', queue: 'escalations' }, { 'if-match': 'W/"1"' }),
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({ priority: 'urgent', queue: 'escalations', version: 2 });
    expect(res.headers.get('etag')).toBe('W/"2"');
    const timeline = await call(`/api/v1/tickets/${id}/timeline`, jsonRequest(agent.token, 'GET'));
    const change = timeline.body!.items.find((e: { type: string }) => e.type === 'field-changed');
    expect(change.data.changes).toEqual({
      priority: { from: 'normal', to: 'urgent' },
      queue: { from: 'general', to: 'escalations' },
    });
  });

  it('answers 412 with the current version for a stale If-Match, and 428 without one', async () => {
    const id = (await create(agent)).body!.id;
    await call(`/api/v1/tickets/${id}`, jsonRequest(agent.token, 'PATCH', { priority: 'high' }, { 'if-match': '"1"' }));
    const stale = await call(
      `/api/v1/tickets/${id}`,
      jsonRequest(agent.token, 'PATCH', { priority: 'low' }, { 'if-match': 'W/"1"' }),
    );
    expect(stale.status).toBe(412);
    expect(stale.body!.currentVersion).toBe(2);
    expect(stale.res.headers.get('etag')).toBe('W/"2"');
    const missing = await call(`/api/v1/tickets/${id}`, jsonRequest(agent.token, 'PATCH', { priority: 'low' }));
    expect(missing.status).toBe(428);
    const garbage = await call(
      `/api/v1/tickets/${id}`,
      jsonRequest(agent.token, 'PATCH', { priority: 'low' }, { 'if-match': 'banana' }),
    );
    expect(garbage.status).toBe(400);
  });
});

describe('POST /api/v1/tickets/{id}/status', () => {
  it('walks the lifecycle, stamping resolved and closed times, and reopens from resolved', async () => {
    const id = (await create(agent)).body!.id;
    for (const status of ['open', 'pending-payer', 'resolved']) {
      expect((await call(`/api/v1/tickets/${id}/status`, jsonRequest(agent.token, 'POST', { status }))).status).toBe(
        200,
      );
    }
    const reopened = await call(
      `/api/v1/tickets/${id}/status`,
      jsonRequest(agent.token, 'POST', { status: 'open', reason: 'patient called back' }),
    );
    expect(reopened.body).toMatchObject({ status: 'open', resolvedAt: null });
    await call(`/api/v1/tickets/${id}/status`, jsonRequest(agent.token, 'POST', { status: 'resolved' }));
    const closed = await call(`/api/v1/tickets/${id}/status`, jsonRequest(agent.token, 'POST', { status: 'closed' }));
    expect(closed.body!.closedAt).not.toBeNull();
    expect(closed.body!.resolvedAt).not.toBeNull();
  });

  it('answers 409 naming the allowed transitions', async () => {
    const id = (await create(agent)).body!.id;
    const { status, body } = await call(
      `/api/v1/tickets/${id}/status`,
      jsonRequest(agent.token, 'POST', { status: 'closed' }),
    );
    expect(status).toBe(409);
    expect(body!.detail).toBe('Cannot move a ticket from new to closed; allowed: open, escalated');
    expect(body!.allowed).toEqual(['open', 'escalated']);
  });
});

describe('assignment, messages and notes', () => {
  it('assigns and unassigns within the tenant', async () => {
    const id = (await create(agent)).body!.id;
    const colleague = await createTestUser(database, t.keys, agent.tenantId, ['agent'], 'Colleague');
    expect(
      (await call(`/api/v1/tickets/${id}/assignment`, jsonRequest(agent.token, 'POST', { assigneeId: colleague.id })))
        .body!.assigneeId,
    ).toBe(colleague.id);
    expect(
      (await call(`/api/v1/tickets/${id}/assignment`, jsonRequest(agent.token, 'POST', { assigneeId: null }))).body!
        .assigneeId,
    ).toBeNull();
  });

  it('records messages per channel and sets first response on the first outbound one', async () => {
    const id = (await create(agent)).body!.id;
    const inbound = await call(
      `/api/v1/tickets/${id}/messages`,
      jsonRequest(agent.token, 'POST', { channel: 'sms', direction: 'inbound', body: 'Why was I charged twice?' }),
    );
    expect(inbound.status).toBe(201);
    expect((await call(`/api/v1/tickets/${id}`, jsonRequest(agent.token, 'GET'))).body!.firstResponseAt).toBeNull();
    await call(
      `/api/v1/tickets/${id}/messages`,
      // A logged call-back: phone messages are records, not deliveries (SMS replies need a recipient).
      jsonRequest(agent.token, 'POST', { channel: 'phone', direction: 'outbound', body: 'Checking with billing now.' }),
    );
    await call(
      `/api/v1/tickets/${id}/notes`,
      jsonRequest(agent.token, 'POST', { body: 'Duplicate charge, see claim 100150' }),
    );
    const ticket = (await call(`/api/v1/tickets/${id}`, jsonRequest(agent.token, 'GET'))).body!;
    expect(ticket.firstResponseAt).not.toBeNull();
    const events = (await call(`/api/v1/tickets/${id}/timeline`, jsonRequest(agent.token, 'GET'))).body!.items;
    expect(events.map((e: { type: string; direction: string | null }) => `${e.type}:${e.direction ?? ''}`)).toEqual([
      'created:',
      'message:inbound',
      'message:outbound',
      'note:',
    ]);
  });

  it('refuses messages on a closed ticket', async () => {
    const id = (await create(agent)).body!.id;
    for (const status of ['open', 'resolved', 'closed'])
      await call(`/api/v1/tickets/${id}/status`, jsonRequest(agent.token, 'POST', { status }));
    const r = await call(
      `/api/v1/tickets/${id}/messages`,
      jsonRequest(agent.token, 'POST', { channel: 'email', direction: 'outbound', body: 'hi' }),
    );
    expect(r.status).toBe(409);
  });

  it('pages the timeline with ?after', async () => {
    const id = (await create(agent)).body!.id;
    for (let i = 0; i < 3; i++)
      await call(`/api/v1/tickets/${id}/notes`, jsonRequest(agent.token, 'POST', { body: `note ${i}` }));
    const first = (await call(`/api/v1/tickets/${id}/timeline?limit=2`, jsonRequest(agent.token, 'GET'))).body!;
    expect(first.items).toHaveLength(2);
    const rest = (
      await call(`/api/v1/tickets/${id}/timeline?after=${first.nextCursor}`, jsonRequest(agent.token, 'GET'))
    ).body!;
    expect(rest.items.map((e: { body: string }) => e.body)).toEqual(['note 1', 'note 2']);
  });
});

describe('links', () => {
  it('links and unlinks, refusing the same resource twice in the same role', async () => {
    const id = (await create(agent)).body!.id;
    const link = await call(
      `/api/v1/tickets/${id}/links`,
      jsonRequest(agent.token, 'POST', { reference: 'Claim/100150', role: 'disputed-claim' }),
    );
    expect(link.status).toBe(201);
    const dup = await call(
      `/api/v1/tickets/${id}/links`,
      jsonRequest(agent.token, 'POST', { reference: 'Claim/100150', role: 'disputed-claim' }),
    );
    expect(dup.status).toBe(409);
    expect(dup.body!.detail).toBe('The ticket is already linked to Claim/100150 as disputed-claim');
    const otherRole = await call(
      `/api/v1/tickets/${id}/links`,
      jsonRequest(agent.token, 'POST', { reference: 'Claim/100150', role: 'related-claim' }),
    );
    expect(otherRole.status).toBe(201);
    expect(
      (await call(`/api/v1/tickets/${id}/links/${link.body!.id}`, jsonRequest(agent.token, 'DELETE'))).status,
    ).toBe(204);
    expect(
      (await call(`/api/v1/tickets/${id}/links/${link.body!.id}`, jsonRequest(agent.token, 'DELETE'))).status,
    ).toBe(404);
    const types = (await call(`/api/v1/tickets/${id}/timeline`, jsonRequest(agent.token, 'GET'))).body!.items.map(
      (e: { type: string }) => e.type,
    );
    expect(types).toEqual(['created', 'linked', 'linked', 'unlinked']);
  });

  it('resolves absolute references against the tenant source and records the cached version seen', async () => {
    const [src] = await database.db
      .insert(schema.source)
      .values({ tenantId: agent.tenantId, name: 'Payer', kind: 'fhir-r4', baseUrl: 'https://payer.example.com/fhir' })
      .returning();
    await database.db.insert(schema.fhirResource).values({
      tenantId: agent.tenantId,
      sourceId: src!.id,
      resourceType: 'ExplanationOfBenefit',
      resourceId: 'EB3500',
      versionId: '7',
      lastUpdated: '2026-01-02T03:04:05Z',
      resource: { resourceType: 'ExplanationOfBenefit', id: 'EB3500' },
      contentHash: 'h1',
      fetchedAt: new Date(),
    });
    const id = (await create(agent, newTicket({ channel: 'in-person' }))).body!.id;
    const link = await call(
      `/api/v1/tickets/${id}/links`,
      jsonRequest(agent.token, 'POST', {
        reference: 'https://payer.example.com/fhir/ExplanationOfBenefit/EB3500',
        role: 'eob',
      }),
    );
    expect(link.status).toBe(201);
    expect(link.body).toMatchObject({
      reference: 'ExplanationOfBenefit/EB3500',
      sourceId: src!.id,
      seenVersionId: '7',
      seenLastUpdated: '2026-01-02T03:04:05Z',
    });
    const foreign = await call(
      `/api/v1/tickets/${id}/links`,
      jsonRequest(agent.token, 'POST', { reference: 'https://other.example.com/fhir/Claim/1', role: 'x' }),
    );
    expect(foreign.status).toBe(400);
  });
});

describe('health and documentation', () => {
  it('serves /healthz, /readyz and the OpenAPI document', async () => {
    expect((await call('/healthz', {})).body).toEqual({ status: 'ok' });
    expect((await call('/readyz', {})).body).toMatchObject({ status: 'ready' });
    const doc = (await call('/openapi.json', {})).body!;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/tickets', '/api/v1/tickets/{id}', '/api/v1/tickets/{id}/links/{linkId}']),
    );
    const docs = await t.app.request('/docs');
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('/openapi.json');
  });
});

describe('users', () => {
  it('lets admins create users and change roles, auditing the privilege change, and refuses agents', async () => {
    const admin = await createTestUser(database, t.keys, agent.tenantId, ['admin'], 'Admin');
    const created = await call(
      '/api/v1/users',
      jsonRequest(admin.token, 'POST', { displayName: 'Nadia Nurse-Line', roles: ['agent'], languages: ['es'] }),
    );
    expect(created.status).toBe(201);
    const before = await database.db.$count(schema.auditEvent);
    const promoted = await call(
      `/api/v1/users/${created.body!.id}`,
      jsonRequest(admin.token, 'PATCH', { roles: ['agent', 'supervisor'] }),
    );
    expect(promoted.body!.roles).toEqual(['agent', 'supervisor']);
    expect((await database.db.$count(schema.auditEvent)) - before).toBe(1);
    const listed = await call('/api/v1/users', jsonRequest(agent.token, 'GET'));
    expect(listed.body!.items.map((u: { displayName: string }) => u.displayName)).toContain('Nadia Nurse-Line');
    expect(
      (await call('/api/v1/users', jsonRequest(agent.token, 'POST', { displayName: 'x', roles: ['admin'] }))).status,
    ).toBe(403);
    expect(
      (await call('/api/v1/users', jsonRequest(admin.token, 'POST', { displayName: 'x', roles: ['root'] }))).status,
    ).toBe(400);
  });
});

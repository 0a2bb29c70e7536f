// Assignment (issue #6): which queues an agent serves and whether they take work now, and how each
// queue hands out tickets. An agent's languages are `app_user.languages` (BCP 47).
import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { sqlList } from './enums';
import { appUser, tenant } from './tenants';

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const assignmentStrategies = ['round-robin', 'least-loaded', 'manual'] as const;
export type AssignmentStrategy = (typeof assignmentStrategies)[number];

/** One row per agent who takes routed work; no row = never auto-assigned. */
export const agentSkill = pgTable(
  'agent_skill',
  {
    userId: uuid('user_id')
      .primaryKey()
      .references(() => appUser.id),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenant.id),
    queues: text('queues').array().$type<string[]>().notNull().default(sql`'{}'::text[]`),
    available: boolean('available').notNull().default(true),
    /** Open (not resolved/closed) tickets above which the agent gets no more; null = no cap. */
    maxOpen: integer('max_open'),
    updatedAt: tstz('updated_at').notNull(),
  },
  (t) => [
    index('agent_skill_tenant_idx').on(t.tenantId),
    check('agent_skill_max_open_ck', sql`max_open IS NULL OR max_open >= 0`),
  ],
);

/**
 * How a queue assigns. The row is also the queue's assignment lock: a create takes it FOR UPDATE, so
 * two concurrent creates see each other's pick (round-robin cursor, least-loaded counts).
 */
export const queuePolicy = pgTable(
  'queue_policy',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenant.id),
    queue: text('queue').notNull(),
    strategy: text('strategy').$type<AssignmentStrategy>().notNull().default('round-robin'),
    /** No available agent speaks the ticket's language: assign any available agent (true) or leave it unassigned. */
    languageFallback: boolean('language_fallback').notNull().default(false),
    /** Round-robin cursor: the agent who got the previous ticket. */
    lastUserId: uuid('last_user_id'),
    updatedAt: tstz('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ name: 'queue_policy_pk', columns: [t.tenantId, t.queue] }),
    check('queue_policy_strategy_ck', sql.raw(`strategy IN (${sqlList(assignmentStrategies)})`)),
  ],
);

export type AgentSkill = typeof agentSkill.$inferSelect;
export type QueuePolicy = typeof queuePolicy.$inferSelect;

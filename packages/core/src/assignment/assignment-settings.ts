// Supervisors and admins set who serves which queue (skills, languages, availability) and how each
// queue assigns. Both are audited: they decide who sees which patients' tickets.
import { and, asc, eq } from 'drizzle-orm';
import { recordAudit } from '../audit/record';
import type { Actor, Clock } from '../context/actor';
import { systemClock } from '../context/actor';
import type { Database } from '../db/database';
import {
  type AgentSkill,
  type AssignmentStrategy,
  agentSkill,
  type QueuePolicy,
  queuePolicy,
} from '../db/schema/routing';
import { appUser } from '../db/schema/tenants';
import { NotFoundError } from '../errors';

export interface AgentSkillsInput {
  queues: string[];
  /** BCP 47 tags; replaces `app_user.languages` when given. */
  languages?: string[] | undefined;
  available: boolean;
  maxOpen?: number | null | undefined;
}

export interface AgentSkillsView {
  userId: string;
  displayName: string;
  languages: string[];
  queues: string[];
  available: boolean;
  maxOpen: number | null;
}

export interface QueuePolicyInput {
  strategy: AssignmentStrategy;
  languageFallback?: boolean | undefined;
}

export type QueuePolicyView = Pick<QueuePolicy, 'queue' | 'strategy' | 'languageFallback'>;

const viewOf = (
  u: { id: string; displayName: string; languages: string[] },
  s: AgentSkill | null,
): AgentSkillsView => ({
  userId: u.id,
  displayName: u.displayName,
  languages: u.languages,
  queues: s?.queues ?? [],
  available: s?.available ?? false,
  maxOpen: s?.maxOpen ?? null,
});

export class AssignmentSettingsService {
  private readonly clock: Clock;
  constructor(
    private readonly database: Database,
    private readonly afterCommit: (actor: Actor) => void = () => {},
    clock?: Clock,
  ) {
    this.clock = clock ?? systemClock;
  }

  async listAgents(actor: Actor): Promise<AgentSkillsView[]> {
    const rows = await this.database.db
      .select({ user: appUser, skill: agentSkill })
      .from(appUser)
      .leftJoin(agentSkill, eq(agentSkill.userId, appUser.id))
      .where(and(eq(appUser.tenantId, actor.tenantId), eq(appUser.active, true)))
      .orderBy(asc(appUser.displayName), asc(appUser.id));
    return rows.map((r) => viewOf(r.user, r.skill));
  }

  async setAgentSkills(actor: Actor, userId: string, input: AgentSkillsInput): Promise<AgentSkillsView> {
    const now = this.clock.now();
    const result = await this.database.db.transaction(async (tx) => {
      const [user] = await tx
        .select()
        .from(appUser)
        .where(and(eq(appUser.id, userId), eq(appUser.tenantId, actor.tenantId)))
        .for('update');
      if (!user) throw new NotFoundError('User not found');
      const languages = input.languages ?? user.languages;
      if (input.languages) await tx.update(appUser).set({ languages }).where(eq(appUser.id, userId));
      const values = {
        userId,
        tenantId: actor.tenantId,
        queues: [...new Set(input.queues)],
        available: input.available,
        maxOpen: input.maxOpen ?? null,
        updatedAt: now,
      };
      const [skill] = await tx
        .insert(agentSkill)
        .values(values)
        .onConflictDoUpdate({ target: agentSkill.userId, set: { ...values, userId: undefined, tenantId: undefined } })
        .returning();
      await recordAudit(
        tx,
        actor,
        {
          action: 'user.skills.change',
          fhirAction: 'U',
          entityType: 'AppUser',
          entityId: userId,
          detail: { queues: values.queues, languages, available: values.available, maxOpen: values.maxOpen },
        },
        now,
      );
      return viewOf({ ...user, languages }, skill!);
    });
    this.afterCommit(actor);
    return result;
  }

  /** An agent going on or off shift: only the availability of their own row. */
  async setOwnAvailability(actor: Actor, available: boolean): Promise<AgentSkillsView> {
    if (!actor.userId) throw new NotFoundError('Only users have an availability');
    const userId = actor.userId;
    const now = this.clock.now();
    const result = await this.database.db.transaction(async (tx) => {
      const [row] = await tx
        .select({ user: appUser, skill: agentSkill })
        .from(agentSkill)
        .innerJoin(appUser, eq(appUser.id, agentSkill.userId))
        .where(and(eq(agentSkill.userId, userId), eq(agentSkill.tenantId, actor.tenantId)))
        .for('update');
      if (!row) throw new NotFoundError('You serve no queue yet; a supervisor assigns queues first');
      const [skill] = await tx
        .update(agentSkill)
        .set({ available, updatedAt: now })
        .where(eq(agentSkill.userId, userId))
        .returning();
      await recordAudit(
        tx,
        actor,
        {
          action: 'user.availability.change',
          fhirAction: 'U',
          entityType: 'AppUser',
          entityId: userId,
          detail: { available },
        },
        now,
      );
      return viewOf(row.user, skill!);
    });
    this.afterCommit(actor);
    return result;
  }

  async listQueues(actor: Actor): Promise<QueuePolicyView[]> {
    return this.database.db
      .select({
        queue: queuePolicy.queue,
        strategy: queuePolicy.strategy,
        languageFallback: queuePolicy.languageFallback,
      })
      .from(queuePolicy)
      .where(eq(queuePolicy.tenantId, actor.tenantId))
      .orderBy(asc(queuePolicy.queue));
  }

  async setQueuePolicy(actor: Actor, queue: string, input: QueuePolicyInput): Promise<QueuePolicyView> {
    const now = this.clock.now();
    const result = await this.database.db.transaction(async (tx) => {
      const values = {
        tenantId: actor.tenantId,
        queue,
        strategy: input.strategy,
        languageFallback: input.languageFallback ?? false,
        updatedAt: now,
      };
      const [row] = await tx
        .insert(queuePolicy)
        .values(values)
        .onConflictDoUpdate({
          target: [queuePolicy.tenantId, queuePolicy.queue],
          set: { strategy: values.strategy, languageFallback: values.languageFallback, updatedAt: now },
        })
        .returning();
      await recordAudit(
        tx,
        actor,
        {
          action: 'queue.policy.change',
          fhirAction: 'U',
          entityType: 'Queue',
          entityId: null,
          detail: { queue, strategy: values.strategy, languageFallback: values.languageFallback },
        },
        now,
      );
      return { queue: row!.queue, strategy: row!.strategy, languageFallback: row!.languageFallback };
    });
    this.afterCommit(actor);
    return result;
  }
}

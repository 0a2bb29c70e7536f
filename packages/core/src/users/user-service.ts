// Users of a tenant. Role changes are privilege changes and are audited (ONC-01).
import { randomUUID } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { recordAudit } from '../audit/record';
import type { Actor } from '../context/actor';
import type { Database } from '../db/database';
import type { Role } from '../db/schema/enums';
import { type AppUser, appUser } from '../db/schema/tenants';
import { NotFoundError } from '../errors';

export interface CreateUserInput {
  displayName: string;
  roles: Role[];
  languages?: string[] | undefined;
  fhirUser?: string | null | undefined;
}

export interface UpdateUserInput {
  displayName?: string | undefined;
  roles?: Role[] | undefined;
  languages?: string[] | undefined;
  active?: boolean | undefined;
}

export class UserService {
  constructor(
    private readonly database: Database,
    private readonly afterCommit: (actor: Actor) => void = () => {},
  ) {}

  async list(actor: Actor): Promise<AppUser[]> {
    return this.database.db
      .select()
      .from(appUser)
      .where(eq(appUser.tenantId, actor.tenantId))
      .orderBy(asc(appUser.displayName), asc(appUser.id));
  }

  async create(actor: Actor, input: CreateUserInput): Promise<AppUser> {
    const row = await this.database.db.transaction(async (tx) => {
      const [user] = await tx
        .insert(appUser)
        .values({
          id: randomUUID(),
          tenantId: actor.tenantId,
          displayName: input.displayName,
          roles: input.roles,
          languages: input.languages ?? [],
          fhirUser: input.fhirUser ?? null,
        })
        .returning();
      await recordAudit(tx, actor, {
        action: 'user.create',
        fhirAction: 'C',
        entityType: 'AppUser',
        entityId: user!.id,
        detail: { roles: input.roles },
      });
      return user!;
    });
    this.afterCommit(actor);
    return row;
  }

  async update(actor: Actor, id: string, input: UpdateUserInput): Promise<AppUser> {
    const row = await this.database.db.transaction(async (tx) => {
      const [current] = await tx
        .select()
        .from(appUser)
        .where(and(eq(appUser.id, id), eq(appUser.tenantId, actor.tenantId)))
        .for('update');
      if (!current) throw new NotFoundError('User not found');
      const [user] = await tx.update(appUser).set(input).where(eq(appUser.id, id)).returning();
      const privilegeChange = input.roles !== undefined || input.active !== undefined;
      await recordAudit(tx, actor, {
        action: privilegeChange ? 'user.privileges.change' : 'user.update',
        fhirAction: 'U',
        entityType: 'AppUser',
        entityId: id,
        detail: privilegeChange
          ? { rolesFrom: current.roles, rolesTo: user!.roles, activeFrom: current.active, activeTo: user!.active }
          : {},
      });
      return user!;
    });
    this.afterCommit(actor);
    return row;
  }
}

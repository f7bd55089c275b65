import { Injectable, SetMetadata, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { Tx } from '#src/database/database.service.js';
import type { PrincipalUser } from '#src/kernel/principal.js';

/**
 * Reactions across modules, declared: what happened to a user, and what each event carries. A
 * module that must react (revoke sessions, keys and grants; give a new user a workspace) marks a
 * method `@OnUserEvent('…')`; the bus finds those methods at boot and runs them, in the order of
 * discovery, inside the transaction of the change that emitted the event, so a failed reaction
 * rolls the change back.
 */
export interface UserEvents {
  /** Password changed, reset or removed: revoke what the old secret opened (`keepSessionId` stays). */
  'user.credentials-changed': { userId: string; keepSessionId: string | null };
  /** The account was disabled. */
  'user.disabled': { userId: string };
  /** The user row is about to be deleted (FK cascades remove what is only theirs). */
  'user.deleting': { userId: string };
  /** A self-service sign-up after the first user. */
  'user.signed-up': { user: PrincipalUser };
}

export type UserEventName = keyof UserEvents;

type Handler<N extends UserEventName> = (tx: Tx, event: UserEvents[N]) => Promise<void>;

const ON_USER_EVENT = 'gatehouse:on-user-event';

/** Marks a provider method as a reaction to `name`, run inside the emitter's transaction. */
export function OnUserEvent<N extends UserEventName>(name: N) {
  return <T extends Handler<N>>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<T>,
  ): void => {
    SetMetadata(ON_USER_EVENT, name)(target, key, descriptor);
  };
}

export interface Subscriber {
  event: UserEventName;
  /** `Class.method`, for reading and for tests. */
  handler: string;
}

@Injectable()
export class UserEventBus implements OnModuleInit {
  private readonly handlers = new Map<
    UserEventName,
    { name: string; instance: object; method: string }[]
  >();
  private collected = false;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  // Every provider exists before any onModuleInit runs, so the reactions can be collected here.
  onModuleInit(): void {
    this.collect();
  }

  private collect(): void {
    if (this.collected) return;
    this.collected = true;
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || wrapper.isNotMetatype) continue;
      const proto = Object.getPrototypeOf(instance) as object;
      for (const method of this.scanner.getAllMethodNames(proto)) {
        const fn = (proto as Record<string, unknown>)[method];
        if (typeof fn !== 'function') continue;
        const event = this.reflector.get<UserEventName | undefined>(ON_USER_EVENT, fn);
        if (event === undefined) continue;
        const list = this.handlers.get(event) ?? [];
        list.push({ name: `${instance.constructor.name}.${method}`, instance, method });
        this.handlers.set(event, list);
      }
    }
  }

  /** Runs every reaction to `name` in `tx`, one after another; the first failure aborts the change. */
  async emit<N extends UserEventName>(tx: Tx, name: N, event: UserEvents[N]): Promise<void> {
    this.collect();
    for (const h of this.handlers.get(name) ?? []) {
      // Looked up at each call (not bound at boot), so the method the instance has now runs.
      const run = (h.instance as Record<string, Handler<N>>)[h.method];
      if (run) await run.call(h.instance, tx, event);
    }
  }

  /** Who reacts to what, in the order they run. */
  subscribers(): Subscriber[] {
    this.collect();
    return [...this.handlers].flatMap(([event, list]) =>
      list.map((h) => ({ event, handler: h.name })),
    );
  }
}

import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { Logger } from '../log.ts';
import type { Notification } from './notification.ts';
import { INVALID_PER_HOUR, storeNotifications, type StoreOutcome } from './notification-store.ts';

/** One merchant's notifications: the key that verifies them and the database (its schema) that keeps them. */
export interface NotifyTarget {
  /** '' for the single merchant of a plain set-up. */
  readonly mid: string;
  readonly secretKey: string;
  readonly db: Kysely<Database>;
  /** Stores a batch in one transaction (see storeNotifications). */
  store(batch: readonly Notification[]): Promise<StoreOutcome[]>;
}

export function notifyTarget(
  options: { mid: string; secretKey: string; db: Kysely<Database>; invalidPerHour?: number },
  logger: Logger,
): NotifyTarget {
  const bound = options.invalidPerHour ?? INVALID_PER_HOUR;
  // Past the bound, one line per hour says so; each counted notification is not logged again.
  const toldHours = new Set<number>();
  return {
    mid: options.mid,
    secretKey: options.secretKey,
    db: options.db,
    async store(batch) {
      const outcomes = await storeNotifications(options.db, batch, bound);
      outcomes.forEach((outcome, i) => {
        if (outcome !== 'counted') return;
        const hour = Math.floor(batch[i]!.row.received_at.getTime() / 3_600_000);
        if (toldHours.has(hour)) return;
        toldHours.add(hour);
        logger.warn(
          { mid: options.mid || undefined, hour: new Date(hour * 3_600_000).toISOString(), bound },
          `more than ${bound} notifications with a failing checksum this hour: the rest of the hour's are counted (notification_invalid_hours), not stored`,
        );
      });
      return outcomes;
    },
  };
}

import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { FeeSchedule } from './fee-schedule.ts';
import { parseFeeSchedule } from './fee-schedule-parse.ts';

/** A fee schedule given now, kept so that a later run given none can use "the last one given". */
export async function storeFeeSchedule(db: Kysely<Database>, sourceFile: string, json: unknown): Promise<void> {
  await db.insertInto('fee_schedules').values({ source_file: sourceFile, schedule: JSON.stringify(json) }).execute();
}

/**
 * The last fee schedule given, or `undefined` when none has been. Checked as strictly as a file:
 * a schedule stored by an older version may no longer be clear.
 */
export async function latestFeeSchedule(db: Kysely<Database>): Promise<FeeSchedule | undefined> {
  const latest = await db.selectFrom('fee_schedules').select(['schedule', 'source_file']).orderBy('id', 'desc').limit(1).executeTakeFirst();
  return latest && parseFeeSchedule(latest.schedule, `the stored fee schedule (given as ${latest.source_file})`);
}

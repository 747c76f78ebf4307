import type { Logger } from '../log.ts';
import { notifyFileElements } from './notify-file.ts';
import { readNotification, type Notification } from './notification.ts';
import type { NotifyTarget } from './notify-target.ts';

/** What an import did with one file's notifications. */
export interface ImportCounts {
  /** Newly stored, and of them how many fail their checksum. */
  stored: number;
  storedInvalid: number;
  /** Stored before (by the receiver or an earlier import), or repeated in the file. */
  repeats: number;
  /** Failing their checksum past the hour's bound: counted, not stored. */
  counted: number;
  /** Notifications in the file whose checksum fails, stored now or not. */
  invalid: number;
  /** Parts of the file that are not a notification (reported with file and line). */
  rejected: number;
}

const BATCH = 500;

/**
 * Imports one file (see notifyFileElements) with the receiver's checks, in transactions of up to
 * 500 notifications: importing it again stores nothing new, and an import stopped half-way is
 * finished by importing the file again. Each rejected part is logged with file, line and reason.
 */
export async function importNotifyFile(path: string, target: NotifyTarget, logger: Logger, signal: AbortSignal): Promise<ImportCounts> {
  const counts: ImportCounts = { stored: 0, storedInvalid: 0, repeats: 0, counted: 0, invalid: 0, rejected: 0 };
  let batch: Notification[] = [];
  const flush = async () => {
    if (signal.aborted) throw signal.reason;
    const outcomes = await target.store(batch);
    outcomes.forEach((outcome, i) => {
      if (outcome === 'stored') {
        counts.stored += 1;
        if (batch[i]!.row.checksum_verdict === 'invalid') counts.storedInvalid += 1;
      } else if (outcome === 'repeat') counts.repeats += 1;
      else counts.counted += 1;
    });
    batch = [];
  };
  for await (const element of notifyFileElements(path)) {
    const read = 'bytes' in element ? readNotification(element.bytes, target.secretKey, { at: new Date(), via: 'import', from: `${path}:${element.line}` }) : { ok: false as const, reason: element.problem };
    if (!read.ok) {
      counts.rejected += 1;
      logger.warn({ file: path, line: element.line, reason: read.reason }, `${path}:${element.line}: not a notification: ${read.reason}`);
      continue;
    }
    if (read.notification.row.checksum_verdict === 'invalid') counts.invalid += 1;
    batch.push(read.notification);
    if (batch.length >= BATCH) await flush();
  }
  if (batch.length > 0) await flush();
  return counts;
}

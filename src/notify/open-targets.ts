import { requireSecretKey, type Config } from '../config/config.ts';
import { openDatabase, type DatabaseHandle } from '../db/connection.ts';
import { ReconError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { loadMerchants, merchantConfig, type Merchant } from '../config/merchants-file.ts';
import { notifyTarget, type NotifyTarget } from './notify-target.ts';

export interface OpenTargets<T> {
  readonly targets: T;
  close(): Promise<void>;
}

/**
 * The receiver's merchants, their databases migrated: without a merchants file the one merchant
 * of `KPGW_SECRET_KEY` (in `RECON_MERCHANT`'s schema when set); with `RECON_MERCHANTS`, every
 * merchant in it, each with the key its `key_env` names and its own schema.
 */
export async function openReceiverTargets(
  config: Config,
  logger: Logger,
): Promise<OpenTargets<{ single: NotifyTarget } | { byMid: ReadonlyMap<string, NotifyTarget> }>> {
  if (!config.worker.merchantsFile) {
    const { targets, close } = await openSingle(config, logger);
    return { targets: { single: targets }, close };
  }
  const configs = (await loadMerchants(config)).map((m) => merchantConfig(config, m));
  // One handle per merchant, each on its own schema; the first starts the embedded server when
  // there is one, the others share it, and they close in reverse order.
  const handles: DatabaseHandle[] = [];
  const close = async () => {
    for (const handle of handles.reverse()) await handle.close();
  };
  try {
    const byMid = new Map<string, NotifyTarget>();
    for (const merchantConf of configs) {
      const handle = await openDatabase(merchantConf, logger, 'write');
      handles.push(handle);
      byMid.set(merchantConf.merchant, notifyTarget({ mid: merchantConf.merchant, secretKey: merchantConf.kpgw.secretKey, db: handle.db }, logger));
    }
    return { targets: { byMid }, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * The one merchant an import is for: without a merchants file, as for the receiver; with one,
 * the merchant `RECON_MERCHANT` names (it may be left out when the file has only one).
 */
export async function openImportTarget(config: Config, logger: Logger): Promise<OpenTargets<NotifyTarget>> {
  if (!config.worker.merchantsFile) return openSingle(config, logger);
  const merchant = chosenMerchant(config.merchant, await loadMerchants(config));
  return openSingle(merchantConfig(config, merchant), logger);
}

async function openSingle(config: Config, logger: Logger): Promise<OpenTargets<NotifyTarget>> {
  // A merchant's key comes from its key_env, which merchantConfig has checked.
  if (!config.worker.merchantsFile) requireSecretKey(config);
  const handle = await openDatabase(config, logger, 'write');
  return {
    targets: notifyTarget({ mid: config.merchant, secretKey: config.kpgw.secretKey, db: handle.db }, logger),
    close: () => handle.close(),
  };
}

function chosenMerchant(mid: string, merchants: readonly Merchant[]): Merchant {
  const known = merchants.map((m) => m.mid).join(', ');
  if (!mid) {
    if (merchants.length === 1) return merchants[0]!;
    throw new ReconError('CONFIG', `RECON_MERCHANT is not set: say which merchant's notifications these are (one of ${known})`);
  }
  const merchant = merchants.find((m) => m.mid === mid);
  if (!merchant) throw new ReconError('CONFIG', `RECON_MERCHANT ${mid} is not in RECON_MERCHANTS (known: ${known})`);
  return merchant;
}

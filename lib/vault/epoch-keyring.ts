import { zeroize } from '../crypto/bytes';
import type { Db } from '../db';
import { unlockEpoch, type UnlockedEpoch } from './epochs';
import type { TenantKeys } from './session';

/**
 * The epoch keys one unlocked session (or decryption grant) has opened, each opened once. `dispose` zeroes them all;
 * callers hold a keyring only as long as the request or job that needs it.
 */
export class EpochKeyring {
  private readonly open = new Map<string, Promise<UnlockedEpoch>>();

  constructor(
    private readonly db: Db,
    private readonly session: TenantKeys,
  ) {}

  get(epochId: string): Promise<UnlockedEpoch> {
    let epoch = this.open.get(epochId);
    if (!epoch) {
      epoch = unlockEpoch(this.db, this.session, epochId);
      // A failed open (shredded epoch) is not cached: the next caller gets the same answer anew.
      epoch.catch(() => this.open.delete(epochId));
      this.open.set(epochId, epoch);
    }
    return epoch;
  }

  dispose(): void {
    for (const epoch of this.open.values())
      void epoch.then((e) => zeroize(e.privateKey, e.indexKey)).catch(() => undefined);
    this.open.clear();
  }
}

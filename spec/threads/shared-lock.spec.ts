import { SharedLock } from '../../lib/threads/index.js';
import { describeLockLike } from '../suites/lock-like.js';

describeLockLike('SharedLock', () => {
  const lock = new SharedLock();
  return { lock, isHeld: () => lock.locked };
});

/**
 * The words, values and registers of `SharedLock`'s algorithm (ticket-lock.ts has the model): the layout of the
 * region, the encodings of `STATE` and of a slot, the step names ({@link Pc}) and one run's registers ({@link Ticket}).
 *
 * @module
 */

export const STATE = 0;
export const NEXT = 1;
export const HEAD = 2;
export const ROOM = 3;
/** Words before the slots. */
export const LOCK_HEADER_WORDS = 4;

/** `STATE` values. */
export const FREE = 0;
export const FREE_DIED = 2;
export const QUEUED = 1;
export const RECOVERING = 2;
/** The `STATE` value of a hold by `agent`. */
export const heldBy = (agent: number) => (agent + 2) << 2;
export const isFree = (state: number) => state === FREE || state === FREE_DIED;
export const holderOfState = (state: number) => (state >> 2) - 2;

/** Slot values. */
export const ABANDONED = 1;
export const TAGGED = 8;
export const WAIT = 0;
export const OFFERED = 1;
export const OFFERED_DIED = 2;
/** Offered to an agent that died before claiming it, and claimed on its behalf by a recovery. */
export const RECLAIMED = 3;
/** The largest agent id a slot or the state can carry. */
export const MAX_AGENT_ID = (0x7fffffff - TAGGED) >> 2;

export const tag = (agent: number, kind: number) => TAGGED + agent * 4 + kind;
/** The slot value of a ticket that `agent` parks with. */
export const waitingValue = (agent: number) => tag(agent, WAIT);
/** The slot value of a ticket offered to `agent`. */
export const offeredValue = (agent: number, died = false) => tag(agent, died ? OFFERED_DIED : OFFERED);
export const kindOf = (value: number) => (value - TAGGED) & 3;
export const agentOf = (value: number) => (value - TAGGED) >> 2;

/** Where a {@link Ticket} is: a resting state (`NotHeld` and below) or the step it takes next. */
export const Pc = {
  /** Resting: the ticket holds the lock. */
  Holds: 0,
  /** Resting: parked on its slot; wake with {@link TicketLock.wake}, give up with {@link TicketLock.cancel}. */
  Parked: 1,
  /** Resting: parked until a slot frees up (too many tickets out). */
  ParkedForRoom: 2,
  /** Resting: gave up without the lock. */
  GaveUp: 3,
  /** Resting: `tryAcquire` found the lock taken. */
  Busy: 4,
  /** Resting: released (or recovered); `recovered` tells which. */
  Released: 5,
  /** Resting: `recover` found no hold of that agent; a release found the lock not held by it. */
  NotHeld: 6,
  AcqFast: 7,
  TryFast: 8,
  TakeLoadNext: 9,
  TakeLoadHead: 10,
  TakeClaim: 11,
  TakeHelp: 12,
  TakeAdvance: 13,
  Flag: 14,
  RoomAnnounce: 15,
  RoomCheck: 16,
  RoomLeave: 17,
  RoomCancel: 18,
  Poll: 19,
  Claim: 20,
  ClaimClear: 21,
  ClaimHead: 22,
  ClaimRoom: 23,
  ClaimRoomNotify: 24,
  Abandon: 25,
  AbandonWake: 26,
  RelFast: 27,
  RelClearQueued: 28,
  RelLoadHead: 29,
  RelLoadSlot: 30,
  RelFree: 31,
  RelSkipClear: 32,
  RelSkipHead: 33,
  RelSkipRoom: 34,
  RelSkipRoomNotify: 35,
  RelOffer: 36,
  RelNotify: 37,
  RecoverScanHead: 38,
  RecoverScanNext: 39,
  RecoverScan: 40,
  RecoverLoadState: 41,
  RecoverLoadHead: 42,
  RecoverLoadSlot: 43,
  RecoverTake: 44,
  RecoverReclaim: 45,
  RecoverClaim: 46,
  RecoverNotify: 47,
  RecoverRoom: 48,
  RecoverRoomNotify: 49,
} as const;
export type Pc = (typeof Pc)[keyof typeof Pc];

/** The name of a {@link Pc} value, for messages. */
export function pcName(pc: Pc): string {
  return Object.keys(Pc).find((name) => Pc[name as keyof typeof Pc] === pc) ?? String(pc);
}

/** One acquisition, release or recovery in progress: the registers of the state machine. */
export class Ticket {
  pc: Pc = Pc.Holds;
  /** The ticket taken (acquire). */
  ticket = 0;
  /** The queue position a release (or recovery) looks at; after a hand-off, the ticket it was handed to. */
  head = 0;
  /** The last value read, or the value a compare-exchange expects (a recovery's reclaim: the offer it found). */
  value = 0;
  /** The agent on whose behalf the machine runs. */
  agent = 0;
  /** While releasing: the `STATE` value (without `QUEUED`) that says "this release holds the lock". */
  own = 0;
  /** While releasing: tell the next holder that the previous owner died. */
  died = false;
  /** Set when the hold was granted with "the previous owner died". */
  previousOwnerDied = false;
  /** A release run on behalf of this acquisition (it found the lock free with its ticket queued). */
  proxy = false;
  /** The ticket is queued (set `QUEUED` and parked, or took the lock as a proxy) and has not settled yet. */
  queued = false;
  /** A recovery ended a hold of the dead agent. */
  recovered = false;
  /** The hold came through the queue (a hand-off), not the free state. */
  viaQueue = false;
  /** A release (or recovery) offered the lock to the ticket in `head` and notified it. */
  handed = false;
  /** Scan cursor and end of a recovery's abandon pass. */
  scan = 0;
  scanEnd = 0;
}

/**
 * The contract between the backend-independent queue (`Dynamic`) and a backend.
 *
 * A backend is io_uring-shaped: operations are encoded into a submission queue with a 32-bit
 * user-data word (`slot | generation << 16`), submitted in batches, and their results come back
 * as `(userData, res)` pairs where `res < 0` is `-errno`. The io_uring backend maps this onto the
 * kernel's rings; the posix and iocp backends emulate it (zig-aio's uringlator).
 *
 * @module
 */
import type { Operation, OperationKind } from "./ops.ts";

/** The backends. */
export type BackendName = "io_uring" | "posix" | "iocp";

/** Bytes of native scratch memory each queue slot owns (a `siginfo_t` is the largest user). */
export const SLOT_SCRATCH = 128;

/** Receives completions from {@linkcode Backend.reap}. */
export interface CompletionSink {
  /** One completion of a user operation. Called after the backend has consumed the entry. */
  onCompletion(userData: number, res: number): void;
}

/**
 * What a queue shares with its backend, per slot: native scratch memory ({@linkcode SLOT_SCRATCH}
 * bytes a slot, at `address + slot * SLOT_SCRATCH`) and a flag byte.
 */
export interface SlotTable {
  /** All slots' scratch memory, off the JS heap. */
  scratch: Uint8Array;
  /** The address of `scratch`. */
  address: number;
  /** Per-slot flags: {@linkcode SLOT_UNSUPPORTED}, {@linkcode SLOT_FINISH}, {@linkcode SLOT_BATCH}. */
  flags: Uint8Array;
}

/** Slot flag: the backend cannot run this kind; report OperationNotSupported. */
export const SLOT_UNSUPPORTED = 1;
/** Slot flag: the completion needs the backend's `finishChildExit`. */
export const SLOT_FINISH = 2;
/** Slot flag (queue's own): the operation belongs to a tracked batch. */
export const SLOT_BATCH = 4;

/** A backend instance: one ring, port or readiness loop. */
export interface Backend {
  /** Which backend this is. */
  readonly name: BackendName;
  /** Submission entries a closeSocket takes (a hidden cancel precedes the close on io_uring). */
  readonly closeSocketEntries: number;
  /** The most submission entries one batch may take; a larger batch cannot be linked atomically. */
  readonly maxBatch: number;
  /** Attaches the queue's per-slot memory and flags; called once, before any `prep`. */
  bind(slots: SlotTable): void;
  /** Submission entries available right now, before a flush. */
  space(): number;
  /**
   * Encodes `op` (whose kind code is `code`) for slot `slot`. Returns what must stay referenced
   * until the completion: every JS buffer whose address went to the kernel and whatever memory the
   * encoding allocated (a single value, an array, or undefined). Sets the slot's flags when the
   * completion needs special handling.
   */
  prep(op: Operation, code: number, userData: number, slot: number): unknown;
  /** The SQ position, for {@linkcode Backend.rollback}. */
  mark(): number;
  /** Forgets every entry encoded since `mark` (a queue call that failed half-way). */
  rollback(mark: number): void;
  /** Post-processing of a ChildExit completion flagged {@linkcode SLOT_FINISH}. */
  finishChildExit?(res: number, slot: number, keep: unknown): number;
  /** Submits what is encoded; waits for at least `minComplete` completions (0: do not wait). */
  submit(minComplete: number): void;
  /** Submits what is encoded and waits at most `timeoutNs` for one completion. */
  submitWithin(timeoutNs: number): void;
  /** Consumes available completions into `sink`; returns how many user completions it gave. */
  reap(sink: CompletionSink): number;
  /** Resolves when a completion may be available, without blocking the event loop. */
  park(): Promise<void>;
  /** Asks the kernel to cancel the operation with `userData` (the result is not reported). */
  cancel(userData: number): void;
  /** Whether each kind is supported here. */
  isSupported(kinds: readonly OperationKind[]): boolean;
  /** Releases the backend. In-flight operations must have completed first. */
  close(): void;
}

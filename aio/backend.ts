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

/** Per-slot resources a backend may use while encoding an operation. */
export interface SlotMemory {
  /** The address of this slot's scratch memory ({@linkcode SLOT_SCRATCH} bytes). */
  address: number;
  /** A view of the same bytes. */
  bytes: Uint8Array;
}

/** A backend instance: one ring, port or readiness loop. */
export interface Backend {
  /** Which backend this is. */
  readonly name: BackendName;
  /** Submission entries available right now, before a flush. */
  space(): number;
  /** The most submission entries one batch may need; a larger batch cannot be linked atomically. */
  readonly maxBatch: number;
  /** How many submission entries `op` takes (closeSocket takes two on io_uring). */
  entriesFor(op: Operation): number;
  /**
   * Encodes `op`. `keep` is the slot's keep-alive list: every JS buffer whose address the
   * encoding hands to the kernel, and whatever memory it allocates, must be pushed there, so
   * that it outlives the kernel's use of it. Returns 1 when the backend cannot run this kind
   * (the queue then reports OperationNotSupported), else 0.
   */
  prep(op: Operation, userData: number, slot: SlotMemory, keep: unknown[]): number;
  /** The SQ position, for {@linkcode Backend.rollback}. */
  mark(): number;
  /** Forgets every entry encoded since `mark` (a queue call that failed half-way). */
  rollback(mark: number): void;
  /** Post-processing of a ChildExit completion, for backends that emulate it. */
  finishChildExit?(res: number, slot: SlotMemory, keep: unknown[]): number;
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

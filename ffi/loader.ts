/**
 * Loading native libraries: the first candidate that opens wins; when none does, the error
 * names every path tried and why it failed.
 *
 * @module
 */

/**
 * An environment variable's value, `undefined` when unset, empty, or unreadable (no
 * `--allow-env`): settings read this way fall back to their defaults.
 *
 * @example
 * ```ts
 * import { envVar } from "./loader.ts";
 * console.log(envVar("AIO_BACKEND") ?? "auto");
 * ```
 */
export function envVar(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

/** Thrown when a native library cannot be loaded; `tried` lists every path, in order. */
export class LibraryNotFoundError extends Error {
  /** The paths tried, in order. */
  readonly tried: readonly string[];
  /**
   * Creates the error.
   *
   * @example
   * ```ts
   * import { LibraryNotFoundError } from "./loader.ts";
   * const err = new LibraryNotFoundError("liburing", ["liburing.so.2"], ["not found"], "");
   * console.log(err.tried);
   * ```
   */
  constructor(library: string, tried: readonly string[], reasons: readonly string[], hint: string) {
    super(
      `could not load ${library}; tried ${tried.map((p, i) => `${p} (${reasons[i]})`).join(", ")}.${
        hint ? ` ${hint}` : ""
      }`,
    );
    this.name = "LibraryNotFoundError";
    this.tried = tried;
  }
}

/**
 * Opens the first of `candidates` that loads.
 *
 * @example
 * ```ts
 * import { loadLibrary } from "./loader.ts";
 * const libc = loadLibrary("libc", ["libc.so.6"], { getpid: { parameters: [], result: "i32" } }, "");
 * console.log(libc.symbols.getpid() > 0);
 * ```
 */
export function loadLibrary<S extends Deno.ForeignLibraryInterface>(
  library: string,
  candidates: readonly string[],
  symbols: S,
  hint: string,
): Deno.DynamicLibrary<S> {
  const reasons: string[] = [];
  for (const path of candidates) {
    try {
      return Deno.dlopen(path, symbols);
    } catch (err) {
      reasons.push(err instanceof Error ? err.message.split("\n")[0] : String(err));
    }
  }
  throw new LibraryNotFoundError(library, candidates, reasons, hint);
}

/**
 * Constants for operation fields: `AF`, `SOCK`, `IPPROTO`, `SOL`, `SO`, `MSG`, `O` (Linux values).
 *
 * @module
 */
export { AF, AT_FDCWD, IPPROTO, MSG, O, SO, SOCK, SOL } from "../ffi/linux.ts";

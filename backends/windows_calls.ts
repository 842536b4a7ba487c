/**
 * The iocp backend's calls that have no overlapped form and may block (path calls, fsync, I/O on
 * a synchronous handle). Each returns its result or `-errno` (Linux numbering), takes its paths as
 * addresses of NUL-terminated UTF-16 strings, and runs on a pool Worker (backends/posix_worker.ts),
 * or on the submitting thread when the pool is full.
 *
 * @module
 */
import { INVALID_HANDLE, type Kernel32, W32 } from "../ffi/kernel32.ts";
import { ERRNO } from "../ffi/linux.ts";
import { errnoFromWin32 } from "../ffi/windows.ts";

type K = Kernel32["symbols"];

function isDir(k: K, path: number): boolean {
  const attrs = k.GetFileAttributesW(BigInt(path));
  return attrs !== W32.INVALID_FILE_ATTRIBUTES && (attrs & W32.FILE_ATTRIBUTE_DIRECTORY) !== 0;
}

function last(k: K): number {
  return -errnoFromWin32(k.GetLastError());
}

/** Open flags for {@linkcode winOpen}, packed. */
export const OPEN_DIRECTORY = 1;
/** {@linkcode winOpen}: the handle may write. */
export const OPEN_WRITE = 2;

/** CreateFileW as openat: a HANDLE (as a number) or -errno. */
export function winOpen(k: K, path: number, access: number, disposition: number, flags: number): number {
  const h = k.CreateFileW(
    BigInt(path),
    access >>> 0,
    W32.FILE_SHARE_ALL,
    0n,
    disposition,
    W32.FILE_ATTRIBUTE_NORMAL | W32.FILE_FLAG_BACKUP_SEMANTICS,
    0n,
  );
  if (h === INVALID_HANDLE) return last(k);
  const dir = isDir(k, path);
  if ((flags & OPEN_DIRECTORY) !== 0 && !dir) {
    k.CloseHandle(h);
    return -ERRNO.ENOTDIR;
  }
  if ((flags & OPEN_DIRECTORY) === 0 && dir && (flags & OPEN_WRITE) !== 0) {
    k.CloseHandle(h);
    return -ERRNO.EISDIR;
  }
  return Number(h);
}

/** FlushFileBuffers. */
export function winFsync(k: K, handle: number): number {
  return k.FlushFileBuffers(BigInt(handle)) ? 0 : last(k);
}

/** MoveFileExW without replacing, as zig-aio's renameat2(RENAME_NOREPLACE). */
export function winRename(k: K, from: number, to: number): number {
  return k.MoveFileExW(BigInt(from), BigInt(to), 0) ? 0 : last(k);
}

/** DeleteFileW, or RemoveDirectoryW when `removeDir`; a directory without it is EISDIR, as unlinkat. */
export function winUnlink(k: K, path: number, removeDir: number): number {
  if (!removeDir && isDir(k, path)) return -ERRNO.EISDIR;
  return (removeDir ? k.RemoveDirectoryW(BigInt(path)) : k.DeleteFileW(BigInt(path))) ? 0 : last(k);
}

/** CreateDirectoryW (Windows has no permission bits to apply). */
export function winMkdir(k: K, path: number): number {
  return k.CreateDirectoryW(BigInt(path), 0n) ? 0 : last(k);
}

/**
 * CreateSymbolicLinkW, a directory link when `targetPath` (the target as seen from here) is a
 * directory. Wine 8 answers success without making a link: that is reported, not hidden.
 */
export function winSymlink(k: K, link: number, target: number, targetPath: number): number {
  const flags = (isDir(k, targetPath) ? W32.SYMBOLIC_LINK_FLAG_DIRECTORY : 0) |
    W32.SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE;
  if (!k.CreateSymbolicLinkW(BigInt(link), BigInt(target), flags)) return last(k);
  return k.GetFileAttributesW(BigInt(link)) === W32.INVALID_FILE_ATTRIBUTES ? -ERRNO.EOPNOTSUPP : 0;
}

/**
 * ReadFile or WriteFile on a synchronous handle (a pipe or console not opened overlapped): the
 * count, or -errno; end of file and a broken pipe read as 0 bytes.
 */
export function winTransfer(
  k: K,
  handle: number,
  buffer: number,
  length: number,
  write: number,
  count: number,
): number {
  const ok = write
    ? k.WriteFile(BigInt(handle), BigInt(buffer), length, BigInt(count), 0n)
    : k.ReadFile(BigInt(handle), BigInt(buffer), length, BigInt(count), 0n);
  if (ok) return readU32(count);
  const e = k.GetLastError();
  if (!write && (e === 109 /* BROKEN_PIPE */ || e === 38 /* HANDLE_EOF */)) return 0;
  return -errnoFromWin32(e);
}

// The DWORD at `address` (the count ReadFile stored).
function readU32(address: number): number {
  return new Deno.UnsafePointerView(Deno.UnsafePointer.create(BigInt(address))!).getUint32(0);
}

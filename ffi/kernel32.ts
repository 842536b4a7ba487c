/**
 * kernel32 and ntdll through `Deno.dlopen`, for the iocp backend and the Windows helpers.
 *
 * HANDLEs are passed as `usize` (bigints) and come back as bigint; the library keeps them as
 * numbers, since handle values fit in 31 bits. Paths are passed as addresses (`usize`), so that a
 * pool Worker, which gets numbers only, makes the same calls. Win32 reports failure through
 * `GetLastError`, read straight after the call on the same thread.
 *
 * @module
 */

/** The symbols bound from kernel32. */
export const kernel32Symbols = {
  // HANDLE CreateIoCompletionPort(HANDLE FileHandle, HANDLE ExistingCompletionPort,
  //                               ULONG_PTR CompletionKey, DWORD NumberOfConcurrentThreads);
  CreateIoCompletionPort: { parameters: ["usize", "usize", "usize", "u32"], result: "usize" },
  // BOOL GetQueuedCompletionStatusEx(HANDLE CompletionPort, LPOVERLAPPED_ENTRY lpCompletionPortEntries,
  //                                  ULONG ulCount, PULONG ulNumEntriesRemoved, DWORD dwMilliseconds, BOOL fAlertable);
  GetQueuedCompletionStatusEx: { parameters: ["usize", "buffer", "u32", "buffer", "u32", "i32"], result: "i32" },
  // The same call on a thread of Deno's pool, so that the event loop runs while it waits.
  GetQueuedCompletionStatusExAsync: {
    name: "GetQueuedCompletionStatusEx",
    parameters: ["usize", "buffer", "u32", "buffer", "u32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  // BOOL PostQueuedCompletionStatus(HANDLE CompletionPort, DWORD dwNumberOfBytesTransferred,
  //                                 ULONG_PTR dwCompletionKey, LPOVERLAPPED lpOverlapped);
  PostQueuedCompletionStatus: { parameters: ["usize", "u32", "usize", "usize"], result: "i32" },
  // BOOL CloseHandle(HANDLE hObject);
  CloseHandle: { parameters: ["usize"], result: "i32" },
  // DWORD GetLastError(void);
  GetLastError: { parameters: [], result: "u32" },
  // DWORD GetCurrentProcessId(void);
  GetCurrentProcessId: { parameters: [], result: "u32" },
  // HANDLE ReOpenFile(HANDLE hOriginalFile, DWORD dwDesiredAccess, DWORD dwShareMode, DWORD dwFlagsAndAttributes);
  ReOpenFile: { parameters: ["usize", "u32", "u32", "u32"], result: "usize" },
  // BOOL ReadFile(HANDLE hFile, LPVOID lpBuffer, DWORD nNumberOfBytesToRead, LPDWORD lpNumberOfBytesRead,
  //               LPOVERLAPPED lpOverlapped);
  ReadFile: { parameters: ["usize", "usize", "u32", "usize", "usize"], result: "i32" },
  // BOOL WriteFile(HANDLE hFile, LPCVOID lpBuffer, DWORD nNumberOfBytesToWrite, LPDWORD lpNumberOfBytesWritten,
  //                LPOVERLAPPED lpOverlapped);
  WriteFile: { parameters: ["usize", "usize", "u32", "usize", "usize"], result: "i32" },
  // BOOL CancelIoEx(HANDLE hFile, LPOVERLAPPED lpOverlapped);
  CancelIoEx: { parameters: ["usize", "usize"], result: "i32" },
  // BOOL GetOverlappedResult(HANDLE hFile, LPOVERLAPPED lpOverlapped, LPDWORD lpNumberOfBytesTransferred, BOOL bWait);
  GetOverlappedResult: { parameters: ["usize", "usize", "buffer", "i32"], result: "i32" },
  // HANDLE CreateFileW(LPCWSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode,
  //                    LPSECURITY_ATTRIBUTES lpSecurityAttributes, DWORD dwCreationDisposition,
  //                    DWORD dwFlagsAndAttributes, HANDLE hTemplateFile);
  CreateFileW: { parameters: ["usize", "u32", "u32", "usize", "u32", "u32", "usize"], result: "usize" },
  // HANDLE CreateNamedPipeW(LPCWSTR lpName, DWORD dwOpenMode, DWORD dwPipeMode, DWORD nMaxInstances,
  //                         DWORD nOutBufferSize, DWORD nInBufferSize, DWORD nDefaultTimeOut,
  //                         LPSECURITY_ATTRIBUTES lpSecurityAttributes);
  CreateNamedPipeW: { parameters: ["buffer", "u32", "u32", "u32", "u32", "u32", "u32", "usize"], result: "usize" },
  // BOOL PeekNamedPipe(HANDLE hNamedPipe, LPVOID lpBuffer, DWORD nBufferSize, LPDWORD lpBytesRead,
  //                    LPDWORD lpTotalBytesAvail, LPDWORD lpBytesLeftThisMessage);
  PeekNamedPipe: { parameters: ["usize", "usize", "u32", "usize", "buffer", "usize"], result: "i32" },
  // DWORD GetFileType(HANDLE hFile);
  GetFileType: { parameters: ["usize"], result: "u32" },
  // BOOL SetFilePointerEx(HANDLE hFile, LARGE_INTEGER liDistanceToMove, PLARGE_INTEGER lpNewFilePointer,
  //                       DWORD dwMoveMethod);
  SetFilePointerEx: { parameters: ["usize", "i64", "buffer", "u32"], result: "i32" },
  // BOOL FlushFileBuffers(HANDLE hFile);
  FlushFileBuffers: { parameters: ["usize"], result: "i32" },
  // DWORD GetFinalPathNameByHandleW(HANDLE hFile, LPWSTR lpszFilePath, DWORD cchFilePath, DWORD dwFlags);
  GetFinalPathNameByHandleW: { parameters: ["usize", "buffer", "u32", "u32"], result: "u32" },
  // BOOL MoveFileExW(LPCWSTR lpExistingFileName, LPCWSTR lpNewFileName, DWORD dwFlags);
  MoveFileExW: { parameters: ["usize", "usize", "u32"], result: "i32" },
  // BOOL DeleteFileW(LPCWSTR lpFileName);
  DeleteFileW: { parameters: ["usize"], result: "i32" },
  // BOOL RemoveDirectoryW(LPCWSTR lpPathName);
  RemoveDirectoryW: { parameters: ["usize"], result: "i32" },
  // BOOL CreateDirectoryW(LPCWSTR lpPathName, LPSECURITY_ATTRIBUTES lpSecurityAttributes);
  CreateDirectoryW: { parameters: ["usize", "usize"], result: "i32" },
  // BOOLEAN CreateSymbolicLinkW(LPCWSTR lpSymlinkFileName, LPCWSTR lpTargetFileName, DWORD dwFlags);
  CreateSymbolicLinkW: { parameters: ["usize", "usize", "u32"], result: "u8" },
  // DWORD GetFileAttributesW(LPCWSTR lpFileName);
  GetFileAttributesW: { parameters: ["usize"], result: "u32" },
  // BOOL DuplicateHandle(HANDLE hSourceProcessHandle, HANDLE hSourceHandle, HANDLE hTargetProcessHandle,
  //                      LPHANDLE lpTargetHandle, DWORD dwDesiredAccess, BOOL bInheritHandle, DWORD dwOptions);
  DuplicateHandle: { parameters: ["usize", "usize", "usize", "buffer", "u32", "i32", "u32"], result: "i32" },
  // HANDLE CreateSemaphoreW(LPSECURITY_ATTRIBUTES lpSemaphoreAttributes, LONG lInitialCount, LONG lMaximumCount,
  //                         LPCWSTR lpName);
  CreateSemaphoreW: { parameters: ["usize", "i32", "i32", "usize"], result: "usize" },
  // HANDLE OpenSemaphoreW(DWORD dwDesiredAccess, BOOL bInheritHandle, LPCWSTR lpName);
  OpenSemaphoreW: { parameters: ["u32", "i32", "usize"], result: "usize" },
  // BOOL ReleaseSemaphore(HANDLE hSemaphore, LONG lReleaseCount, LPLONG lpPreviousCount);
  ReleaseSemaphore: { parameters: ["usize", "i32", "usize"], result: "i32" },
  // HANDLE OpenProcess(DWORD dwDesiredAccess, BOOL bInheritHandle, DWORD dwProcessId);
  OpenProcess: { parameters: ["u32", "i32", "u32"], result: "usize" },
  // BOOL GetExitCodeProcess(HANDLE hProcess, LPDWORD lpExitCode);
  GetExitCodeProcess: { parameters: ["usize", "buffer"], result: "i32" },
  // DWORD WaitForSingleObject(HANDLE hHandle, DWORD dwMilliseconds);
  WaitForSingleObject: { parameters: ["usize", "u32"], result: "u32" },
  // HANDLE CreateJobObjectW(LPSECURITY_ATTRIBUTES lpJobAttributes, LPCWSTR lpName);
  CreateJobObjectW: { parameters: ["usize", "usize"], result: "usize" },
  // BOOL AssignProcessToJobObject(HANDLE hJob, HANDLE hProcess);
  AssignProcessToJobObject: { parameters: ["usize", "usize"], result: "i32" },
  // BOOL SetInformationJobObject(HANDLE hJob, JOBOBJECTINFOCLASS JobObjectInformationClass,
  //                              LPVOID lpJobObjectInformation, DWORD cbJobObjectInformationLength);
  SetInformationJobObject: { parameters: ["usize", "u32", "buffer", "u32"], result: "i32" },
  // BOOL CreateProcessW(LPCWSTR lpApplicationName, LPWSTR lpCommandLine, LPSECURITY_ATTRIBUTES lpProcessAttributes,
  //                     LPSECURITY_ATTRIBUTES lpThreadAttributes, BOOL bInheritHandles, DWORD dwCreationFlags,
  //                     LPVOID lpEnvironment, LPCWSTR lpCurrentDirectory, LPSTARTUPINFOW lpStartupInfo,
  //                     LPPROCESS_INFORMATION lpProcessInformation);
  CreateProcessW: {
    parameters: ["usize", "buffer", "usize", "usize", "i32", "u32", "usize", "usize", "buffer", "buffer"],
    result: "i32",
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** The symbols bound from ntdll. */
export const ntdllSymbols = {
  // NTSTATUS NtQueryInformationFile(HANDLE FileHandle, PIO_STATUS_BLOCK IoStatusBlock, PVOID FileInformation,
  //                                 ULONG Length, FILE_INFORMATION_CLASS FileInformationClass);
  NtQueryInformationFile: { parameters: ["usize", "buffer", "buffer", "u32", "u32"], result: "i32" },
  // ULONG RtlNtStatusToDosError(NTSTATUS Status);
  RtlNtStatusToDosError: { parameters: ["i32"], result: "u32" },
} as const satisfies Deno.ForeignLibraryInterface;

import { loadLibrary } from "./loader.ts";

/** The loaded kernel32. */
export type Kernel32 = Deno.DynamicLibrary<typeof kernel32Symbols>;
/** The loaded ntdll. */
export type Ntdll = Deno.DynamicLibrary<typeof ntdllSymbols>;

let kernel32: Kernel32 | undefined;
let ntdll: Ntdll | undefined;

/**
 * kernel32, opened once per isolate (Windows only).
 *
 * @example
 * ```ts
 * import { openKernel32 } from "./kernel32.ts";
 * if (Deno.build.os === "windows") console.log(openKernel32().symbols.GetCurrentProcessId() > 0);
 * ```
 */
export function openKernel32(): Kernel32 {
  return kernel32 ??= loadLibrary("kernel32", ["kernel32.dll"], kernel32Symbols, "");
}

/**
 * ntdll, opened once per isolate (Windows only).
 *
 * @example
 * ```ts
 * import { openNtdll } from "./kernel32.ts";
 * if (Deno.build.os === "windows") console.log(openNtdll().symbols.RtlNtStatusToDosError(0));
 * ```
 */
export function openNtdll(): Ntdll {
  return ntdll ??= loadLibrary("ntdll", ["ntdll.dll"], ntdllSymbols, "");
}

/** `INVALID_HANDLE_VALUE` as the bigint a `usize` result gives. */
export const INVALID_HANDLE: bigint = 0xffff_ffff_ffff_ffffn;

/** Win32 constants used by the backend and helpers. */
export const W32 = {
  GENERIC_READ: 0x80000000,
  GENERIC_WRITE: 0x40000000,
  FILE_SHARE_ALL: 7,
  CREATE_NEW: 1,
  CREATE_ALWAYS: 2,
  OPEN_EXISTING: 3,
  OPEN_ALWAYS: 4,
  TRUNCATE_EXISTING: 5,
  FILE_FLAG_OVERLAPPED: 0x40000000,
  FILE_FLAG_BACKUP_SEMANTICS: 0x02000000,
  FILE_FLAG_FIRST_PIPE_INSTANCE: 0x00080000,
  FILE_FLAG_OPEN_REPARSE_POINT: 0x00200000,
  FILE_APPEND_DATA: 0x4,
  FILE_READ_DATA: 0x1,
  FILE_WRITE_DATA: 0x2,
  FILE_ATTRIBUTE_NORMAL: 0x80,
  PIPE_ACCESS_INBOUND: 1,
  PIPE_ACCESS_DUPLEX: 3,
  PIPE_TYPE_BYTE: 0,
  PIPE_REJECT_REMOTE_CLIENTS: 8,
  FILE_TYPE_DISK: 1,
  FILE_TYPE_CHAR: 2,
  FILE_TYPE_PIPE: 3,
  FILE_CURRENT: 1,
  FILE_BEGIN: 0,
  MOVEFILE_REPLACE_EXISTING: 1,
  SYMBOLIC_LINK_FLAG_DIRECTORY: 1,
  SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE: 2,
  INVALID_FILE_ATTRIBUTES: 0xffffffff,
  FILE_ATTRIBUTE_DIRECTORY: 0x10,
  STILL_ACTIVE: 259,
  SEMAPHORE_ALL_ACCESS: 0x1f0003,
  ERROR_ALREADY_EXISTS: 183,
  PROCESS_QUERY_LIMITED_INFORMATION: 0x1000,
  PROCESS_SET_QUOTA: 0x100,
  PROCESS_TERMINATE: 0x1,
  SYNCHRONIZE: 0x100000,
  WAIT_OBJECT_0: 0,
  JobObjectAssociateCompletionPortInformation: 7,
  JOB_OBJECT_MSG_EXIT_PROCESS: 7,
  JOB_OBJECT_MSG_ABNORMAL_EXIT_PROCESS: 8,
  FileModeInformation: 16,
  FILE_SYNCHRONOUS_IO_ALERT: 0x10,
  FILE_SYNCHRONOUS_IO_NONALERT: 0x20,
  FileAccessInformation: 8,
  INFINITE: 0xffffffff,
  CREATE_NO_WINDOW: 0x08000000,
  CREATE_UNICODE_ENVIRONMENT: 0x400,
} as const;

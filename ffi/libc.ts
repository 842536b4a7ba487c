/**
 * The few libc calls that have no io_uring equivalent or are needed outside a ring:
 * socket options, eventfd semaphores, pipes, child processes and blocking fallbacks.
 *
 * libc reports failure through `errno`, which Deno's FFI does not capture. {@linkcode errno}
 * reads it straight after the call, on the same thread, before any other FFI call can run.
 *
 * @module
 */

/** The symbols bound from libc. */
export const libcSymbols = {
  // int close(int fd);
  close: { parameters: ["i32"], result: "i32" },
  // ssize_t read(int fd, void *buf, size_t count);  (declared i32 for the fast path; counts here are small)
  read: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  // ssize_t write(int fd, const void *buf, size_t count);
  write: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  // ssize_t preadv2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags);
  preadv2: { parameters: ["i32", "buffer", "i32", "i64", "i32"], result: "i32" },
  // int eventfd(unsigned int initval, int flags);
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  // int pipe2(int pipefd[2], int flags);
  pipe2: { parameters: ["buffer", "i32"], result: "i32" },
  // int socketpair(int domain, int type, int protocol, int sv[2]);
  socketpair: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  // int setsockopt(int sockfd, int level, int optname, const void *optval, socklen_t optlen);
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  // int getsockopt(int sockfd, int level, int optname, void *optval, socklen_t *optlen);
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  // int bind(int sockfd, const struct sockaddr *addr, socklen_t addrlen);
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  // int listen(int sockfd, int backlog);
  listen: { parameters: ["i32", "i32"], result: "i32" },
  // int getsockname(int sockfd, struct sockaddr *addr, socklen_t *addrlen);
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  // int poll(struct pollfd *fds, nfds_t nfds, int timeout);
  poll: { parameters: ["buffer", "u32", "i32"], result: "i32" },
  // int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
  //                  const posix_spawnattr_t *attrp, char *const argv[], char *const envp[]);
  posix_spawnp: {
    parameters: ["buffer", "buffer", "pointer", "pointer", "buffer", "pointer"],
    result: "i32",
  },
  // int waitid(idtype_t idtype, id_t id, siginfo_t *infop, int options);
  waitid: { parameters: ["i32", "i32", "buffer", "i32"], result: "i32" },
  // long syscall(long number, ...);  used for pidfd_open, which glibc 2.36 wraps but older ones do not
  syscall: { parameters: ["i64", "i64", "i64"], result: "i64" },
  // int kill(pid_t pid, int sig);
  kill: { parameters: ["i32", "i32"], result: "i32" },
  // int fcntl(int fd, int cmd, ...);
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  // The posix backend's calls. On this thread they take buffers (the fast path); a number
  // passed for a 64-bit parameter costs about 350 ns more than a bigint or a buffer. The pool's
  // Workers take addresses (usize, as bigint). Results bounded by the kernel's MAX_RW_COUNT
  // (< 2^31) are declared i32.
  // ssize_t pwritev2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags);
  pwritev2: { parameters: ["i32", "buffer", "i32", "i64", "i32"], result: "i32" },
  // ssize_t recv(int sockfd, void *buf, size_t len, int flags);
  recv: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  // ssize_t send(int sockfd, const void *buf, size_t len, int flags);
  send: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  // ssize_t recvmsg(int sockfd, struct msghdr *msg, int flags);
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  // ssize_t sendmsg(int sockfd, const struct msghdr *msg, int flags);
  sendmsg: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  // int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);
  accept4: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32", optional: true },
  // int connect(int sockfd, const struct sockaddr *addr, socklen_t addrlen);
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  // int socket(int domain, int type, int protocol);
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  // int shutdown(int sockfd, int how);
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  // ssize_t splice(int fd_in, off64_t *off_in, int fd_out, off64_t *off_out, size_t len, unsigned flags);
  splice: { parameters: ["i32", "buffer", "i32", "buffer", "u32", "u32"], result: "i32", optional: true },
  // int fstat(int fd, struct stat *st);  (glibc 2.33+ exports it; st_mode is at 24 on x86_64, 16 on aarch64)
  fstat: { parameters: ["i32", "buffer"], result: "i32", optional: true },
  // The pool Workers' calls, with addresses.
  // ssize_t preadv2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags);
  preadv2_at: { name: "preadv2", parameters: ["i32", "usize", "i32", "i64", "i32"], result: "i32" },
  // ssize_t pwritev2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags);
  pwritev2_at: { name: "pwritev2", parameters: ["i32", "usize", "i32", "i64", "i32"], result: "i32" },
  // int waitid(idtype_t idtype, id_t id, siginfo_t *infop, int options);
  waitid_at: { name: "waitid", parameters: ["i32", "i32", "usize", "i32"], result: "i32" },
  // int fsync(int fd);
  fsync: { parameters: ["i32"], result: "i32" },
  // int openat(int dirfd, const char *path, int flags, mode_t mode);
  openat: { parameters: ["i32", "usize", "i32", "u32"], result: "i32" },
  // int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned flags);
  renameat2: { parameters: ["i32", "usize", "i32", "usize", "u32"], result: "i32", optional: true },
  // int unlinkat(int dirfd, const char *path, int flags);
  unlinkat: { parameters: ["i32", "usize", "i32"], result: "i32" },
  // int mkdirat(int dirfd, const char *path, mode_t mode);
  mkdirat: { parameters: ["i32", "usize", "u32"], result: "i32" },
  // int symlinkat(const char *target, int newdirfd, const char *linkpath);
  symlinkat: { parameters: ["usize", "i32", "usize"], result: "i32" },
  // int timerfd_create(int clockid, int flags);
  timerfd_create: { parameters: ["i32", "i32"], result: "i32", optional: true },
  // int timerfd_settime(int fd, int flags, const struct itimerspec *new, struct itimerspec *old);
  timerfd_settime: { parameters: ["i32", "i32", "buffer", "pointer"], result: "i32", optional: true },
  // int epoll_create1(int flags);
  epoll_create1: { parameters: ["i32"], result: "i32", optional: true },
  // int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event);
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32", optional: true },
  // int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout);
  epoll_wait: { parameters: ["i32", "buffer", "i32", "i32"], result: "i32", optional: true },
  // int epoll_pwait2(int epfd, struct epoll_event *events, int maxevents,
  //                  const struct timespec *timeout, const sigset_t *sigmask);  (Linux 5.11, glibc 2.35)
  epoll_pwait2: { parameters: ["i32", "buffer", "i32", "buffer", "pointer"], result: "i32", optional: true },
  // int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *tmo, const sigset_t *sigmask);
  // (nfds declared u32, zero-extended, like the lengths above: a number for u64 is the slow path)
  ppoll: { parameters: ["buffer", "u32", "buffer", "pointer"], result: "i32", optional: true },
  // The same on Deno's blocking pool: the posix backend parks on it without blocking the event loop.
  ppoll_async: { name: "ppoll", parameters: ["buffer", "u64", "buffer", "pointer"], result: "i32", nonblocking: true },
  // int *__errno_location(void);
  __errno_location: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

import { loadLibrary } from "./loader.ts";

/** The loaded library. */
export type Libc = Deno.DynamicLibrary<typeof libcSymbols>;

let cached: Libc | undefined;
let errnoView: Int32Array | undefined;

/**
 * Opens libc once per isolate.
 *
 * @example
 * ```ts
 * import { openLibc } from "./libc.ts";
 * console.log(openLibc().symbols.close(-1));
 * ```
 */
export function openLibc(): Libc {
  cached ??= loadLibrary(
    "libc",
    Deno.build.os === "darwin" ? ["libSystem.B.dylib"] : ["libc.so.6", "libc.so"],
    libcSymbols,
    "",
  );
  return cached;
}

/**
 * The calling thread's errno. Call it straight after the failing libc call: nothing else may
 * run on this thread in between.
 *
 * @example
 * ```ts
 * import { errno, openLibc } from "./libc.ts";
 * if (openLibc().symbols.close(-1) < 0) console.log(errno()); // 9 (EBADF)
 * ```
 */
export function errno(): number {
  if (!errnoView) {
    // The thread-local errno address is fixed for the thread's life, so it is mapped once:
    // mapping one address twice would create two ArrayBuffers over it, which V8 refuses.
    const ptr = openLibc().symbols.__errno_location();
    errnoView = new Int32Array(Deno.UnsafePointerView.getArrayBuffer(ptr!, 4));
  }
  return errnoView[0];
}

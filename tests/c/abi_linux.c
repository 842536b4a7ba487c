// Prints this machine's ABI values as JSON, for tests/abi_test.ts to compare with ffi/abi.ts.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define V(name, value) printf("%s\"%s\": %ld", first ? "" : ", ", name, (long)(value)), first = 0

int main(void) {
  int first = 1;
  printf("{");
  V("errno.EPERM", EPERM); V("errno.ENOENT", ENOENT); V("errno.EINTR", EINTR); V("errno.EBADF", EBADF);
  V("errno.ECHILD", ECHILD); V("errno.EAGAIN", EAGAIN); V("errno.EEXIST", EEXIST); V("errno.EINVAL", EINVAL);
  V("errno.EPIPE", EPIPE); V("errno.ENOSYS", ENOSYS); V("errno.ETIME", ETIME); V("errno.EOPNOTSUPP", EOPNOTSUPP);
  V("errno.ECONNRESET", ECONNRESET); V("errno.ETIMEDOUT", ETIMEDOUT); V("errno.EALREADY", EALREADY);
  V("errno.EINPROGRESS", EINPROGRESS); V("errno.ECANCELED", ECANCELED);
  V("O.RDONLY", O_RDONLY); V("O.WRONLY", O_WRONLY); V("O.RDWR", O_RDWR); V("O.CREAT", O_CREAT); V("O.EXCL", O_EXCL);
  V("O.NOCTTY", O_NOCTTY); V("O.TRUNC", O_TRUNC); V("O.APPEND", O_APPEND); V("O.NONBLOCK", O_NONBLOCK);
  V("O.DIRECTORY", O_DIRECTORY); V("O.CLOEXEC", O_CLOEXEC);
  V("MSG.OOB", MSG_OOB); V("MSG.PEEK", MSG_PEEK); V("MSG.DONTROUTE", MSG_DONTROUTE); V("MSG.TRUNC", MSG_TRUNC);
  V("MSG.DONTWAIT", MSG_DONTWAIT); V("MSG.EOR", MSG_EOR); V("MSG.WAITALL", MSG_WAITALL); V("MSG.NOSIGNAL", MSG_NOSIGNAL);
  V("MSG.CMSG_CLOEXEC", MSG_CMSG_CLOEXEC);
  V("AF.UNIX", AF_UNIX); V("AF.INET", AF_INET); V("AF.INET6", AF_INET6);
  V("SOCK.STREAM", SOCK_STREAM); V("SOCK.DGRAM", SOCK_DGRAM); V("SOCK.NONBLOCK", SOCK_NONBLOCK); V("SOCK.CLOEXEC", SOCK_CLOEXEC);
  V("SOL_SOCKET", SOL_SOCKET); V("SO.REUSEADDR", SO_REUSEADDR); V("SO.ERROR", SO_ERROR);
  V("POLL.IN", POLLIN); V("POLL.PRI", POLLPRI); V("POLL.OUT", POLLOUT); V("POLL.ERR", POLLERR); V("POLL.HUP", POLLHUP);
  V("POLL.NVAL", POLLNVAL);
  V("F.GETFL", F_GETFL); V("F.SETFL", F_SETFL);
  V("sockaddrIn.size", sizeof(struct sockaddr_in)); V("sockaddrIn.family", offsetof(struct sockaddr_in, sin_family));
  V("sockaddrIn.familySize", sizeof(((struct sockaddr_in *)0)->sin_family));
  V("sockaddrIn.port", offsetof(struct sockaddr_in, sin_port)); V("sockaddrIn.addr", offsetof(struct sockaddr_in, sin_addr));
  V("msghdr.size", sizeof(struct msghdr)); V("msghdr.name", offsetof(struct msghdr, msg_name));
  V("msghdr.namelen", offsetof(struct msghdr, msg_namelen)); V("msghdr.iov", offsetof(struct msghdr, msg_iov));
  V("msghdr.iovlen", offsetof(struct msghdr, msg_iovlen)); V("msghdr.control", offsetof(struct msghdr, msg_control));
  V("msghdr.controllen", offsetof(struct msghdr, msg_controllen)); V("msghdr.flags", offsetof(struct msghdr, msg_flags));
  V("iovec.size", sizeof(struct iovec)); V("iovec.base", offsetof(struct iovec, iov_base)); V("iovec.len", offsetof(struct iovec, iov_len));
  V("pollfd.size", sizeof(struct pollfd)); V("pollfd.fd", offsetof(struct pollfd, fd));
  V("pollfd.events", offsetof(struct pollfd, events)); V("pollfd.revents", offsetof(struct pollfd, revents));
  V("readinessEvent.size", sizeof(struct epoll_event)); V("readinessEvent.events", offsetof(struct epoll_event, events));
  V("readinessEvent.data", offsetof(struct epoll_event, data));
  printf("}\n");
  return 0;
}

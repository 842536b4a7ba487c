// The C liburing anchor for bench/ping_pongs.ts: a TCP ping-pong over 127.0.0.1 with 64-byte
// messages, server and client on one ring in one thread.
//
// Mode "multishot" (the anchor, the default) uses what zig-aio's bench/ping_pongs_uring.zig does:
// SINGLE_ISSUER | COOP_TASKRUN, registered files, one multishot recv per socket over a provided
// buffer ring, and sends with CQE_SKIP_SUCCESS, so that a round trip costs two CQEs and two
// io_uring_enter calls (one per direction: the sender must see the previous message first).
// Unlike that file, both ends share one ring and one thread, as in bench/ping_pongs.zig.
//
// Mode "plain" (for comparison only) issues the operations the coro port issues, one by one:
// the client a send linked to a recv, the server a recv, then a send of what it read.
//
// Usage: ping_pongs [round_trips] [multishot|plain]   (defaults: 100000 multishot)
// Prints one JSON line: {"mode":"multishot","roundtrips":N,"seconds":S,"rtps":X}
//
// Built by bench/run.ts: gcc -O2 -o bench/.build/ping_pongs bench/ping_pongs.c -luring

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG_SIZE 64
#define RING_ENTRIES 4096
#define NUM_BUFFERS 64

enum { UD_SERVER_RECV = 1, UD_CLIENT_RECV, UD_SERVER_SEND, UD_CLIENT_SEND };

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int err) {
  fprintf(stderr, "ping_pongs: %s: %s\n", what, strerror(err));
  exit(1);
}

static struct io_uring_sqe *get_sqe(struct io_uring *ring) {
  struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
  if (sqe == NULL) {
    fprintf(stderr, "ping_pongs: submission queue full\n");
    exit(1);
  }
  return sqe;
}

// A connected pair over loopback: *server_conn is the accepted end, *client the connecting one.
static void connect_pair(int *server_conn, int *client) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
  if (listener < 0) die("socket", errno);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;  // The kernel picks a free port.
  if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind", errno);
  if (listen(listener, 1) < 0) die("listen", errno);
  socklen_t len = sizeof addr;
  if (getsockname(listener, (struct sockaddr *)&addr, &len) < 0) die("getsockname", errno);
  *client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
  if (*client < 0) die("socket", errno);
  // Completes at once on loopback: the kernel finishes the handshake before accept.
  if (connect(*client, (struct sockaddr *)&addr, sizeof addr) < 0) die("connect", errno);
  *server_conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
  if (*server_conn < 0) die("accept", errno);
  close(listener);
  if (setsockopt(*client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) die("setsockopt", errno);
  if (setsockopt(*server_conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) die("setsockopt", errno);
}

static void init_ring(struct io_uring *ring) {
  struct io_uring_params params;
  memset(&params, 0, sizeof params);
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN;
  int ret = io_uring_queue_init_params(RING_ENTRIES, ring, &params);
  if (ret == -EINVAL) {
    // Kernels before 6.0 lack SINGLE_ISSUER.
    memset(&params, 0, sizeof params);
    params.flags = IORING_SETUP_COOP_TASKRUN;
    ret = io_uring_queue_init_params(RING_ENTRIES, ring, &params);
  }
  if (ret < 0) die("io_uring_queue_init_params", -ret);
}

// One provided-buffer ring: NUM_BUFFERS buffers of MSG_SIZE bytes, group `bgid`.
struct buffers {
  struct io_uring_buf_ring *ring;
  unsigned char *data;
  int mask;
};

static void init_buffers(struct io_uring *ring, struct buffers *b, unsigned short bgid) {
  size_t ring_bytes = NUM_BUFFERS * sizeof(struct io_uring_buf);
  void *mem = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) die("mmap", errno);
  b->ring = mem;
  b->data = malloc(NUM_BUFFERS * MSG_SIZE);
  if (b->data == NULL) die("malloc", ENOMEM);
  b->mask = io_uring_buf_ring_mask(NUM_BUFFERS);
  io_uring_buf_ring_init(b->ring);
  struct io_uring_buf_reg reg;
  memset(&reg, 0, sizeof reg);
  reg.ring_addr = (unsigned long)mem;
  reg.ring_entries = NUM_BUFFERS;
  reg.bgid = bgid;
  int ret = io_uring_register_buf_ring(ring, &reg, 0);
  if (ret < 0) die("io_uring_register_buf_ring", -ret);
  for (int i = 0; i < NUM_BUFFERS; i++) {
    io_uring_buf_ring_add(b->ring, b->data + i * MSG_SIZE, MSG_SIZE, (unsigned short)i, b->mask, i);
  }
  io_uring_buf_ring_advance(b->ring, NUM_BUFFERS);
}

static void give_back(struct buffers *b, unsigned short bid) {
  io_uring_buf_ring_add(b->ring, b->data + bid * MSG_SIZE, MSG_SIZE, bid, b->mask, 0);
  io_uring_buf_ring_advance(b->ring, 1);
}

static void arm_recv(struct io_uring *ring, int fixed_index, unsigned short bgid, uint64_t ud) {
  struct io_uring_sqe *sqe = get_sqe(ring);
  io_uring_prep_recv_multishot(sqe, fixed_index, NULL, 0, 0);
  sqe->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
  sqe->buf_group = bgid;
  io_uring_sqe_set_data64(sqe, ud);
}

static void queue_send(struct io_uring *ring, int fixed_index, const unsigned char *msg, uint64_t ud) {
  struct io_uring_sqe *sqe = get_sqe(ring);
  io_uring_prep_send(sqe, fixed_index, msg, MSG_SIZE, 0);
  sqe->flags |= IOSQE_FIXED_FILE | IOSQE_CQE_SKIP_SUCCESS;
  io_uring_sqe_set_data64(sqe, ud);
}

static unsigned long long run_multishot(struct io_uring *ring, int server_conn, int client,
                                        unsigned long long count, const unsigned char *ping,
                                        const unsigned char *pong, double *seconds) {
  // Fixed file 0 is the server's end, 1 the client's; buffer group 0 the server's, 1 the client's.
  int files[2] = {server_conn, client};
  int ret = io_uring_register_files(ring, files, 2);
  if (ret < 0) die("io_uring_register_files", -ret);
  struct buffers bufs[2];
  init_buffers(ring, &bufs[0], 0);
  init_buffers(ring, &bufs[1], 1);
  // The timed part starts here: setup (registrations, buffers) is outside it, as in zig-aio.
  double start = now_seconds();
  arm_recv(ring, 0, 0, UD_SERVER_RECV);
  arm_recv(ring, 1, 1, UD_CLIENT_RECV);
  queue_send(ring, 1, ping, UD_CLIENT_SEND);

  // Bytes received and not yet answered, per side (a message may arrive in pieces).
  unsigned long long pending[2] = {0, 0};
  unsigned long long pongs = 0;
  struct io_uring_cqe *cqes[64];
  while (pongs < count) {
    ret = io_uring_submit_and_wait(ring, 1);
    if (ret < 0 && ret != -EINTR) die("io_uring_submit_and_wait", -ret);
    unsigned n = io_uring_peek_batch_cqe(ring, cqes, 64);
    for (unsigned i = 0; i < n; i++) {
      struct io_uring_cqe *cqe = cqes[i];
      uint64_t ud = io_uring_cqe_get_data64(cqe);
      if (ud == UD_SERVER_SEND || ud == UD_CLIENT_SEND) die("send", -cqe->res);
      int side = ud == UD_SERVER_RECV ? 0 : 1;
      if (cqe->res < 0 && cqe->res != -ENOBUFS) die("recv", -cqe->res);
      if (cqe->res == 0) die("recv", ECONNRESET);
      if (cqe->res > 0) {
        pending[side] += (unsigned long long)cqe->res;
        give_back(&bufs[side], (unsigned short)(cqe->flags >> IORING_CQE_BUFFER_SHIFT));
        for (; pending[side] >= MSG_SIZE; pending[side] -= MSG_SIZE) {
          if (side == 0) {
            queue_send(ring, 0, pong, UD_SERVER_SEND);
          } else {
            pongs++;
            if (pongs < count) queue_send(ring, 1, ping, UD_CLIENT_SEND);
          }
        }
      }
      // The kernel ends a multishot recv now and then (e.g. out of buffers): arm it again.
      if (!(cqe->flags & IORING_CQE_F_MORE)) arm_recv(ring, side, (unsigned short)side, ud);
    }
    io_uring_cq_advance(ring, n);
  }
  *seconds = now_seconds() - start;
  return pongs;
}

static unsigned long long run_plain(struct io_uring *ring, int server_conn, int client, unsigned long long count,
                                    const unsigned char *ping, double *seconds) {
  static unsigned char server_buf[1024];
  static unsigned char client_buf[1024];
  struct io_uring_sqe *sqe;

  double start = now_seconds();
  sqe = get_sqe(ring);
  io_uring_prep_recv(sqe, server_conn, server_buf, sizeof server_buf, 0);
  io_uring_sqe_set_data64(sqe, UD_SERVER_RECV);
  sqe = get_sqe(ring);
  io_uring_prep_send(sqe, client, ping, MSG_SIZE, 0);
  sqe->flags |= IOSQE_IO_LINK;
  io_uring_sqe_set_data64(sqe, UD_CLIENT_SEND);
  sqe = get_sqe(ring);
  io_uring_prep_recv(sqe, client, client_buf, sizeof client_buf, 0);
  io_uring_sqe_set_data64(sqe, UD_CLIENT_RECV);

  unsigned long long pending = 0;
  unsigned long long pongs = 0;
  struct io_uring_cqe *cqes[64];
  while (pongs < count) {
    int ret = io_uring_submit_and_wait(ring, 1);
    if (ret < 0 && ret != -EINTR) die("io_uring_submit_and_wait", -ret);
    unsigned n = io_uring_peek_batch_cqe(ring, cqes, 64);
    for (unsigned i = 0; i < n; i++) {
      struct io_uring_cqe *cqe = cqes[i];
      uint64_t ud = io_uring_cqe_get_data64(cqe);
      if (cqe->res < 0) die("operation", -cqe->res);
      switch (ud) {
        case UD_SERVER_RECV:
          if (cqe->res == 0) die("server recv", ECONNRESET);
          sqe = get_sqe(ring);
          io_uring_prep_send(sqe, server_conn, server_buf, (size_t)cqe->res, 0);
          io_uring_sqe_set_data64(sqe, UD_SERVER_SEND);
          break;
        case UD_SERVER_SEND:
          sqe = get_sqe(ring);
          io_uring_prep_recv(sqe, server_conn, server_buf, sizeof server_buf, 0);
          io_uring_sqe_set_data64(sqe, UD_SERVER_RECV);
          break;
        case UD_CLIENT_SEND:
          break;
        case UD_CLIENT_RECV:
          if (cqe->res == 0) die("client recv", ECONNRESET);
          pending += (unsigned long long)cqe->res;
          pongs += pending / MSG_SIZE;
          pending %= MSG_SIZE;
          if (pongs < count) {
            sqe = get_sqe(ring);
            io_uring_prep_send(sqe, client, ping, MSG_SIZE, 0);
            sqe->flags |= IOSQE_IO_LINK;
            io_uring_sqe_set_data64(sqe, UD_CLIENT_SEND);
            sqe = get_sqe(ring);
            io_uring_prep_recv(sqe, client, client_buf, sizeof client_buf, 0);
            io_uring_sqe_set_data64(sqe, UD_CLIENT_RECV);
          }
          break;
      }
    }
    io_uring_cq_advance(ring, n);
  }
  *seconds = now_seconds() - start;
  return pongs;
}

int main(int argc, char **argv) {
  unsigned long long count = 100000;
  const char *mode = "multishot";
  if (argc > 1) {
    char *end = NULL;
    errno = 0;
    count = strtoull(argv[1], &end, 10);
    if (errno != 0 || end == argv[1] || *end != '\0' || count == 0 || count > (1ULL << 40)) {
      fprintf(stderr, "ping_pongs: round_trips must be a positive integer\n");
      return 2;
    }
  }
  if (argc > 2) mode = argv[2];
  if (strcmp(mode, "multishot") != 0 && strcmp(mode, "plain") != 0) {
    fprintf(stderr, "ping_pongs: mode must be multishot or plain\n");
    return 2;
  }

  static unsigned char ping[MSG_SIZE];
  static unsigned char pong[MSG_SIZE];
  memset(ping, 'i', sizeof ping);
  memset(pong, 'o', sizeof pong);

  int server_conn, client;
  connect_pair(&server_conn, &client);
  struct io_uring ring;
  init_ring(&ring);

  double seconds = 0;
  unsigned long long done = strcmp(mode, "plain") == 0
                                ? run_plain(&ring, server_conn, client, count, ping, &seconds)
                                : run_multishot(&ring, server_conn, client, count, ping, pong, &seconds);

  io_uring_queue_exit(&ring);
  close(client);
  close(server_conn);
  printf("{\"mode\":\"%s\",\"roundtrips\":%llu,\"seconds\":%.6f,\"rtps\":%.1f}\n", mode, done, seconds,
         (double)done / seconds);
  return 0;
}

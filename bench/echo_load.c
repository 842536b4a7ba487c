// The load generator of bench/echo.ts and bench/thread_per_core.ts: many TCP connections to an
// echo server over loopback, each a closed loop (send SIZE bytes, wait for all of them to come
// back, send again), on one io_uring in one thread, so that the client spends as little CPU per
// round trip as we know how to (the server under test shares the machine's cores with it).
//
// First every connection is made and does one round trip (at most 64 wait for their first echo
// at a time, so a server's accept backlog, 128 for many, never overflows into SYN retransmits);
// then they all stop. A run ("window") restarts all of them at once: WARMUP seconds untimed, then
// SECONDS timed, then each connection stops after its current round trip. The rate counts the
// round trips whose echo completes inside the timed window; the latency histogram (1 µs buckets
// up to 10 s) takes every ping sent inside the window, also when its echo completes after it,
// so that connections a server starves are not left out. A round trip's time runs from the
// io_uring_enter that submitted the send to the moment the CQE with the last byte of the echo was
// seen. New pings are submitted every 16
// completions handled, not only once per batch.
//
// Usage: echo_load --port P [--host 127.0.0.1] [--conns 1000] [--size 64] [--seconds 2]
//                  [--warmup 0.5] [--stdin]
// Without --stdin: one window, then exit. With --stdin: prints {"ready":true,"connected":C} once
// connected, then runs one window per line read from stdin, and exits at end of input (the
// connections stay open between windows, so the bench does not pay 1000 connects per run).
// Each window prints one JSON line:
//   {"conns":N,"connected":C,"errors":E,"roundtrips":R,"seconds":S,"rtps":X,"p50_us":A,"p99_us":B,
//    "max_us":M,"overflow":O,"all_roundtrips":T}
// (T counts the warm-up's and the drain's round trips too, for a CPU time per round trip.)
// Exits 1 when a connection could not be made or failed, or an echo differed from its ping (the
// JSON line is still printed).
//
// Built by bench/echo.ts: gcc -O2 -o bench/.build/echo_load bench/echo_load.c -luring

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
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RING_ENTRIES 4096
#define MAX_SIZE 4096
#define HIST_US 10000000 // 10 s in 1 µs buckets
#define MAX_PENDING_CONNECTS 64
#define FLUSH_EVERY 16

enum { OP_CONNECT = 1, OP_SEND = 2, OP_RECV = 3 };

struct conn {
  int fd;
  int alive;
  int busy;         // a ping is out and its echo not complete
  size_t got;       // bytes of the current echo received
  uint64_t sent_ns; // when the current ping was submitted
  char *buf;
};

static struct io_uring ring;
static struct conn *conns;
static int nconns = 1000;
static char *ping;
static size_t size = 64;
static uint32_t *hist;
static uint64_t overflow, max_ns, recorded;
static uint64_t all_roundtrips; // in the whole window: warm-up, timed part and drain
static int *stamp_list;
static int stamp_count;
static int opened, connected, errors, alive, busy;
static int complaints; // error lines printed: the first few tell the story

#define COMPLAIN(...)                                   \
  do {                                                  \
    if (complaints++ < 5) fprintf(stderr, __VA_ARGS__); \
  } while (0)

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, int err) {
  fprintf(stderr, "echo_load: %s: %s\n", what, strerror(err));
  exit(2);
}

static struct io_uring_sqe *get_sqe(void) {
  struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
  if (sqe == NULL) {
    int ret = io_uring_submit(&ring);
    if (ret < 0) die("io_uring_submit", -ret);
    sqe = io_uring_get_sqe(&ring);
    if (sqe == NULL) die("io_uring_get_sqe", EBUSY);
  }
  return sqe;
}

static uint64_t ud(int op, int i) { return ((uint64_t)i << 8) | (uint64_t)op; }

static void queue_recv(int i) {
  struct io_uring_sqe *sqe = get_sqe();
  io_uring_prep_recv(sqe, conns[i].fd, conns[i].buf + conns[i].got, size - conns[i].got, 0);
  io_uring_sqe_set_data64(sqe, ud(OP_RECV, i));
}

static void queue_ping(int i) {
  // The send's success needs no CQE; a failure (or a short send, which a 64-byte send on an idle
  // loopback socket never is) still posts one.
  struct io_uring_sqe *sqe = get_sqe();
  io_uring_prep_send(sqe, conns[i].fd, ping, size, MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, ud(OP_SEND, i));
  sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
  conns[i].got = 0;
  conns[i].busy = 1;
  busy++;
  stamp_list[stamp_count++] = i;
  queue_recv(i);
}

static void record(uint64_t ns) {
  uint64_t us = ns / 1000;
  recorded++;
  if (ns > max_ns) max_ns = ns;
  if (us < HIST_US) hist[us]++;
  else overflow++;
}

static double percentile_us(uint64_t total, double p) {
  uint64_t rank = (uint64_t)(p * (double)total);
  if (rank >= total) rank = total - 1;
  uint64_t seen = 0;
  for (uint64_t us = 0; us < HIST_US; us++) {
    seen += hist[us];
    if (seen > rank) return (double)us + 0.5;
  }
  return (double)max_ns / 1000.0;
}

static void fail(struct conn *c) {
  errors++;
  alive--;
  c->alive = 0;
  if (c->busy) busy--;
  c->busy = 0;
  shutdown(c->fd, SHUT_RDWR);
}

// Submits what is queued, waits for at least one completion and handles them all. An echo
// completing at `t` is recorded when `t` is in [window_start, window_end), and its connection
// pings again while `t < repeat_until`. Returns the time the wait returned.
static void stamp(void) {
  uint64_t t_submit = now_ns();
  for (int k = 0; k < stamp_count; k++) conns[stamp_list[k]].sent_ns = t_submit;
  stamp_count = 0;
}

static uint64_t pump(uint64_t window_start, uint64_t window_end, uint64_t repeat_until, uint64_t *roundtrips) {
  stamp();
  int ret = io_uring_submit_and_wait(&ring, 1);
  if (ret < 0 && ret != -EINTR) die("io_uring_submit_and_wait", -ret);
  uint64_t t = now_ns();
  struct io_uring_cqe *cqe;
  unsigned head, seen = 0;
  io_uring_for_each_cqe(&ring, head, cqe) {
    seen++;
    uint64_t data = io_uring_cqe_get_data64(cqe);
    int op = (int)(data & 0xff), i = (int)(data >> 8);
    struct conn *c = &conns[i];
    int res = cqe->res;
    if (op == OP_CONNECT) {
      if (res < 0) {
        COMPLAIN("echo_load: connect: %s\n", strerror(-res));
        errors++;
        continue;
      }
      connected++;
      alive++;
      c->alive = 1;
      queue_ping(i);
    } else if (!c->alive) {
      continue;
    } else if (op == OP_SEND || res <= 0) {
      if (op == OP_SEND && res >= 0) COMPLAIN("echo_load: short send (%d)\n", res);
      else if (res < 0) COMPLAIN("echo_load: %s: %s\n", op == OP_SEND ? "send" : "recv", strerror(-res));
      else COMPLAIN("echo_load: the server closed a connection\n");
      fail(c);
    } else {
      c->got += (size_t)res;
      if (c->got < size) {
        queue_recv(i);
        continue;
      }
      if (memcmp(c->buf, ping, size) != 0) {
        COMPLAIN("echo_load: the echo differs from the ping\n");
        fail(c);
        continue;
      }
      c->busy = 0;
      busy--;
      // The rate counts the echoes completed in the window; the latency, every ping sent in it,
      // also one whose echo comes after the window (while the connections drain), so that a
      // connection the server starves still shows in the percentiles.
      if (t >= window_start && t < window_end) (*roundtrips)++;
      all_roundtrips++;
      if (c->sent_ns >= window_start && c->sent_ns < window_end) record(t - c->sent_ns);
      if (t < repeat_until) queue_ping(i);
      if (stamp_count >= FLUSH_EVERY) {
        // Pings go out as their echoes are seen, in small groups, rather than all at the end of
        // a large batch: a load generator that answers a batch with a batch would lock a
        // batching server into taking turns with it, each idle while the other works.
        stamp();
        ret = io_uring_submit(&ring);
        if (ret < 0) die("io_uring_submit", -ret);
        // Completions the submit produced are read in this same loop: they get a fresh time.
        t = now_ns();
      }
    }
  }
  io_uring_cq_advance(&ring, seen);
  return t;
}

// Opens every connection; each does one round trip, then waits. Returns 0 on success.
static int connect_all(const struct sockaddr_in *addr) {
  uint64_t start = now_ns(), none = 0;
  while (opened < nconns || busy > 0) {
    // Open connections while few are waiting for their first echo.
    while (opened < nconns && busy + (opened - connected - errors) < MAX_PENDING_CONNECTS) {
      // Non-blocking: io_uring then waits for the handshake with a poll instead of a blocked
      // io-wq thread per connect (1000 of those took 5-10 s here).
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      if (fd < 0) die("socket", errno);
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      conns[opened].fd = fd;
      conns[opened].buf = malloc(size);
      if (conns[opened].buf == NULL) die("malloc", ENOMEM);
      struct io_uring_sqe *sqe = get_sqe();
      io_uring_prep_connect(sqe, fd, (const struct sockaddr *)addr, sizeof *addr);
      io_uring_sqe_set_data64(sqe, ud(OP_CONNECT, opened));
      opened++;
    }
    if (opened == nconns && busy == 0 && connected + errors >= nconns) break;
    uint64_t t = pump(0, 0, 0, &none);
    if (t - start > 30ull * 1000000000ull) {
      fprintf(stderr, "echo_load: only %d of %d connections answered within 30 s\n", connected - busy, nconns);
      return -1;
    }
  }
  return errors == 0 ? 0 : -1;
}

// One window: every live connection pings, WARMUP untimed, SECONDS timed, then each stops after
// its current round trip. Prints the JSON line; returns 0 when nothing failed.
static int run_window(double warmup, double seconds) {
  memset(hist, 0, HIST_US * sizeof *hist);
  overflow = 0;
  recorded = 0;
  all_roundtrips = 0;
  max_ns = 0;
  int errors_before = errors;
  for (int i = 0; i < opened; i++)
    if (conns[i].alive) queue_ping(i);
  uint64_t window_start = now_ns() + (uint64_t)(warmup * 1e9);
  uint64_t window_end = window_start + (uint64_t)(seconds * 1e9);
  uint64_t roundtrips = 0;
  uint64_t t = 0;
  while (t < window_end && alive > 0) t = pump(window_start, window_end, window_end, &roundtrips);
  // Let the round trips in flight finish, so that the next window starts from quiet connections.
  while (busy > 0) pump(window_start, window_end, 0, &roundtrips);
  double secs = (double)(window_end - window_start) / 1e9;
  double p50 = recorded == 0 ? 0 : percentile_us(recorded, 0.50);
  double p99 = recorded == 0 ? 0 : percentile_us(recorded, 0.99);
  printf("{\"conns\":%d,\"connected\":%d,\"errors\":%d,\"roundtrips\":%llu,\"seconds\":%.3f,\"rtps\":%.1f,"
         "\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f,\"overflow\":%llu,\"all_roundtrips\":%llu}\n",
         nconns, connected, errors, (unsigned long long)roundtrips, secs, (double)roundtrips / secs, p50, p99,
         (double)max_ns / 1000.0, (unsigned long long)overflow, (unsigned long long)all_roundtrips);
  fflush(stdout);
  return errors == errors_before && roundtrips > 0 ? 0 : -1;
}

static void usage(void) {
  fprintf(stderr, "usage: echo_load --port P [--host 127.0.0.1] [--conns 1000] [--size 64] [--seconds 2] "
                  "[--warmup 0.5] [--stdin]\n");
  exit(2);
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1";
  int port = 0, from_stdin = 0;
  double seconds = 2, warmup = 0.5;
  for (int i = 1; i < argc; i++) {
    const char *k = argv[i];
    if (strcmp(k, "--stdin") == 0) {
      from_stdin = 1;
      continue;
    }
    if (i + 1 >= argc) usage();
    const char *v = argv[++i];
    if (strcmp(k, "--host") == 0) host = v;
    else if (strcmp(k, "--port") == 0) port = atoi(v);
    else if (strcmp(k, "--conns") == 0) nconns = atoi(v);
    else if (strcmp(k, "--size") == 0) size = (size_t)atol(v);
    else if (strcmp(k, "--seconds") == 0) seconds = atof(v);
    else if (strcmp(k, "--warmup") == 0) warmup = atof(v);
    else usage();
  }
  if (port <= 0 || port > 65535 || nconns < 1 || nconns > 60000 || size < 1 || size > MAX_SIZE || seconds <= 0 ||
      warmup < 0)
    usage();

  // One descriptor a connection, plus the ring and stdio.
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)nconns + 64) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }

  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) die("inet_pton", EINVAL);

  struct io_uring_params params = {
      .flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_CQSIZE,
      .cq_entries = 4 * RING_ENTRIES,
  };
  int ret = io_uring_queue_init_params(RING_ENTRIES, &ring, &params);
  if (ret < 0) die("io_uring_queue_init_params", -ret);

  conns = calloc((size_t)nconns, sizeof *conns);
  stamp_list = calloc((size_t)nconns, sizeof *stamp_list);
  hist = calloc(HIST_US, sizeof *hist);
  ping = malloc(size);
  if (conns == NULL || stamp_list == NULL || hist == NULL || ping == NULL) die("calloc", ENOMEM);
  for (size_t k = 0; k < size; k++) ping[k] = (char)('a' + k % 26); // a misplaced byte shows

  int status = connect_all(&addr);
  if (status == 0 && from_stdin) {
    printf("{\"ready\":true,\"connected\":%d}\n", connected);
    fflush(stdout);
    char line[64];
    while (status == 0 && fgets(line, sizeof line, stdin) != NULL) status = run_window(warmup, seconds);
  } else if (status == 0) {
    status = run_window(warmup, seconds);
  } else {
    printf("{\"conns\":%d,\"connected\":%d,\"errors\":%d,\"roundtrips\":0}\n", nconns, connected, errors);
  }
  // Closing is the server's signal that the load is over; the process exit closes the rest.
  for (int i = 0; i < opened; i++) close(conns[i].fd);
  io_uring_queue_exit(&ring);
  return status == 0 ? 0 : 1;
}

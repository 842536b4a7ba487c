// The C liburing anchor for bench/aio_nops.ts: zig-aio's bench/aio_nops.zig loop, written against
// liburing directly so that the TypeScript port has a floor to be compared with.
//
// Usage: aio_nops [batch] [total]   (defaults: 32 and 2500000)
// Prints one JSON line: {"batch":32,"nops":N,"seconds":S,"mnops":X}
//
// Built by bench/run.ts: gcc -O2 -o bench/.build/aio_nops bench/aio_nops.c -luring

#include <errno.h>
#include <liburing.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// zig-aio's Dynamic in the benchmark is sized 32768; the ring matches it.
#define QUEUE_SIZE 32768

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_count(const char *arg, unsigned long long max, unsigned long long *out) {
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(arg, &end, 10);
  if (errno != 0 || end == arg || *end != '\0' || v == 0 || v > max) return -1;
  *out = v;
  return 0;
}

int main(int argc, char **argv) {
  unsigned long long batch = 32;
  unsigned long long total = 2500000;
  if (argc > 1 && parse_count(argv[1], QUEUE_SIZE, &batch) != 0) {
    fprintf(stderr, "aio_nops: batch must be an integer in [1, %d]\n", QUEUE_SIZE);
    return 2;
  }
  if (argc > 2 && parse_count(argv[2], 1ULL << 50, &total) != 0) {
    fprintf(stderr, "aio_nops: total must be a positive integer\n");
    return 2;
  }

  struct io_uring ring;
  struct io_uring_params params;
  memset(&params, 0, sizeof params);
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_CLAMP;
  int ret = io_uring_queue_init_params(QUEUE_SIZE, &ring, &params);
  if (ret == -EINVAL) {
    // Kernels before 6.0 lack SINGLE_ISSUER.
    memset(&params, 0, sizeof params);
    params.flags = IORING_SETUP_CLAMP;
    ret = io_uring_queue_init_params(QUEUE_SIZE, &ring, &params);
  }
  if (ret < 0) {
    fprintf(stderr, "aio_nops: io_uring_queue_init_params: %s\n", strerror(-ret));
    return 1;
  }

  struct io_uring_cqe *cqes[256];
  unsigned long long completed = 0;
  unsigned long long in_flight = 0;
  unsigned long long errors = 0;
  uint64_t next_ud = 0;
  double start = now_seconds();
  while (completed < total) {
    for (unsigned long long i = 0; i < batch; i++) {
      struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
      if (sqe == NULL) {
        fprintf(stderr, "aio_nops: submission queue full\n");
        return 1;
      }
      io_uring_prep_nop(sqe);
      io_uring_sqe_set_data64(sqe, next_ud++);
    }
    in_flight += batch;
    // Like the TypeScript loop, drain before the next batch, so both reuse the same
    // number of slots; for NOPs the first wait already returns every completion.
    while (in_flight > 0) {
      ret = io_uring_submit_and_wait(&ring, 1);
      if (ret < 0 && ret != -EINTR) {
        fprintf(stderr, "aio_nops: io_uring_submit_and_wait: %s\n", strerror(-ret));
        return 1;
      }
      unsigned n;
      while ((n = io_uring_peek_batch_cqe(&ring, cqes, 256)) > 0) {
        // The TypeScript queue looks at every result, so the anchor does too.
        for (unsigned i = 0; i < n; i++) errors += cqes[i]->res < 0;
        io_uring_cq_advance(&ring, n);
        completed += n;
        in_flight -= n;
      }
    }
  }
  double seconds = now_seconds() - start;

  io_uring_queue_exit(&ring);
  if (errors > 0) {
    fprintf(stderr, "aio_nops: %llu NOPs failed\n", errors);
    return 1;
  }
  printf("{\"batch\":%llu,\"nops\":%llu,\"seconds\":%.6f,\"mnops\":%.4f}\n", batch, completed, seconds,
         (double)completed / seconds / 1e6);
  return 0;
}

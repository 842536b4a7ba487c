// The C liburing anchor for bench/fs.ts, two loops:
//
//   read_buf: zig-aio's bench/fs.zig (tokio's async_read_buf): one 4 KiB read of /dev/zero at
//             the file position at a time: one read SQE, io_uring_submit_and_wait(1), reap.
//   random:   random 4 KiB reads at queue depth 32 from a file (bench/fs.ts makes a 256 MiB one
//             under bench/.build/): 32 reads always in flight; each completion is checked and
//             resubmitted at the next offset of the xorshift32 sequence all the ports share.
//
// Usage: fs read_buf [total]          (default 300000)
//        fs random <path> [total]     (default 200000)
// Prints one JSON line: {"mode":"random","reads":N,"seconds":S,"rate":X} (rate: reads per second)
//
// Built by bench/run.ts: gcc -O2 -o bench/.build/fs bench/fs.c -luring

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096
#define DEPTH 32
// The xorshift32 seed shared with fs.ts, fs_deno.ts and fs_node.mjs.
#define SEED 0x9e3779b9u

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_count(const char *arg, unsigned long long *out) {
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(arg, &end, 10);
  if (errno != 0 || end == arg || *end != '\0' || v == 0 || v > (1ULL << 50)) return -1;
  *out = v;
  return 0;
}

// Marsaglia's xorshift32 (13, 17, 5); the block is the next value modulo the file's blocks.
static uint32_t rng = SEED;
static uint32_t next_block(uint32_t blocks) {
  uint32_t x = rng;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  rng = x;
  return x % blocks;
}

// zig-aio's ring flags for a blocking loop (the TypeScript side uses them too: syncOnly),
// without what the kernel lacks.
static int init_ring(struct io_uring *ring, unsigned entries) {
  static const unsigned chain[] = {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN, IORING_SETUP_COOP_TASKRUN,
                                   0};
  int ret = -EINVAL;
  for (unsigned i = 0; i < sizeof chain / sizeof chain[0]; i++) {
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    params.flags = chain[i];
    ret = io_uring_queue_init_params(entries, ring, &params);
    if (ret != -EINVAL) break;
  }
  if (ret < 0) fprintf(stderr, "fs: io_uring_queue_init_params: %s\n", strerror(-ret));
  return ret;
}

static void print_result(const char *mode, unsigned long long reads, double seconds) {
  printf("{\"mode\":\"%s\",\"reads\":%llu,\"seconds\":%.6f,\"rate\":%.1f}\n", mode, reads, seconds,
         (double)reads / seconds);
}

static int read_buf(unsigned long long total) {
  int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "fs: /dev/zero: %s\n", strerror(errno));
    return 1;
  }
  struct io_uring ring;
  if (init_ring(&ring, 4) < 0) return 1;
  static char buf[BLOCK];
  unsigned long long done = 0;
  double start = now_seconds();
  while (done < total) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    // Offset -1: at the file position, like zig-aio's default OFFSET_CURRENT_POS.
    io_uring_prep_read(sqe, fd, buf, BLOCK, (uint64_t)-1);
    io_uring_sqe_set_data64(sqe, 1);
    int ret = io_uring_submit_and_wait(&ring, 1);
    if (ret < 0 && ret != -EINTR) {
      fprintf(stderr, "fs: io_uring_submit_and_wait: %s\n", strerror(-ret));
      return 1;
    }
    struct io_uring_cqe *cqe;
    while (io_uring_peek_cqe(&ring, &cqe) == 0) {
      if (cqe->res != BLOCK) {
        fprintf(stderr, "fs: read of /dev/zero returned %d\n", cqe->res);
        return 1;
      }
      io_uring_cqe_seen(&ring, cqe);
      done++;
    }
  }
  double seconds = now_seconds() - start;
  io_uring_queue_exit(&ring);
  close(fd);
  print_result("read_buf", done, seconds);
  return 0;
}

static int random_reads(const char *path, unsigned long long total) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    fprintf(stderr, "fs: %s: %s\n", path, strerror(errno));
    return 1;
  }
  if (st.st_size < BLOCK || st.st_size / BLOCK > UINT32_MAX) {
    fprintf(stderr, "fs: %s: size %lld is not a usable number of 4 KiB blocks\n", path, (long long)st.st_size);
    return 1;
  }
  uint32_t blocks = (uint32_t)(st.st_size / BLOCK);
  struct io_uring ring;
  if (init_ring(&ring, 2 * DEPTH) < 0) return 1;
  static uint8_t bufs[DEPTH][BLOCK] __attribute__((aligned(BLOCK)));
  uint32_t expect[DEPTH];
  unsigned long long issued = 0, done = 0;
  double start = now_seconds();
  for (unsigned lane = 0; lane < DEPTH && issued < total; lane++, issued++) {
    expect[lane] = next_block(blocks);
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    io_uring_prep_read(sqe, fd, bufs[lane], BLOCK, (uint64_t)expect[lane] * BLOCK);
    io_uring_sqe_set_data64(sqe, lane);
  }
  struct io_uring_cqe *cqes[DEPTH];
  while (done < total) {
    int ret = io_uring_submit_and_wait(&ring, 1);
    if (ret < 0 && ret != -EINTR) {
      fprintf(stderr, "fs: io_uring_submit_and_wait: %s\n", strerror(-ret));
      return 1;
    }
    unsigned n = io_uring_peek_batch_cqe(&ring, cqes, DEPTH);
    for (unsigned i = 0; i < n; i++) {
      unsigned lane = (unsigned)io_uring_cqe_get_data64(cqes[i]);
      // Every block starts with its index (little-endian u32): proves the read's offset.
      uint32_t got;
      memcpy(&got, bufs[lane], sizeof got);
      if (cqes[i]->res != BLOCK || got != expect[lane]) {
        fprintf(stderr, "fs: read of block %u returned %d (block header %u)\n", expect[lane], cqes[i]->res, got);
        return 1;
      }
      done++;
      if (issued < total) {
        issued++;
        expect[lane] = next_block(blocks);
        struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
        io_uring_prep_read(sqe, fd, bufs[lane], BLOCK, (uint64_t)expect[lane] * BLOCK);
        io_uring_sqe_set_data64(sqe, lane);
      }
    }
    io_uring_cq_advance(&ring, n);
  }
  double seconds = now_seconds() - start;
  io_uring_queue_exit(&ring);
  close(fd);
  print_result("random", done, seconds);
  return 0;
}

int main(int argc, char **argv) {
  const char *usage = "usage: fs read_buf [total] | fs random <path> [total]\n";
  unsigned long long total;
  if (argc >= 2 && strcmp(argv[1], "read_buf") == 0 && argc <= 3) {
    total = 300000;
    if (argc == 3 && parse_count(argv[2], &total) != 0) {
      fputs(usage, stderr);
      return 2;
    }
    return read_buf(total);
  }
  if (argc >= 3 && strcmp(argv[1], "random") == 0 && argc <= 4) {
    total = 200000;
    if (argc == 4 && parse_count(argv[3], &total) != 0) {
      fputs(usage, stderr);
      return 2;
    }
    return random_reads(argv[2], total);
  }
  fputs(usage, stderr);
  return 2;
}

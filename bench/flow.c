// The C liburing anchor for bench/flow.ts: 512-byte UDP datagrams over 127.0.0.1, sender and
// receiver on one ring in one thread. The rate is datagrams received per second, from the first
// send to the last data packet received.
//
// Mode "multishot" (the anchor, the default) uses what zig-aio's bench/flow_uring.zig does on the
// receiving side: SINGLE_ISSUER | COOP_TASKRUN, the socket registered as a fixed file, and one
// multishot recvmsg over a provided-buffer ring, re-armed when the kernel ends it. The sender
// issues one sendmsg at a time (io_uring_submit_and_wait(ring, 1), then a sweep of the CQEs), as
// flow_uring.zig's does. Unlike that file (two threads, two rings, UDP GSO/GRO), both ends share
// one ring and one thread and every datagram is sent by itself, as in bench/flow.ts.
//
// Mode "plain" (for comparison only) issues the operations the coro port issues: one recvmsg
// at a time (requeued when it completes) and one sendmsg at a time.
//
// UDP may drop packets: the sender sends exactly N datagrams, then a 1-byte end marker every
// millisecond until the receiver has seen one; the receiver stops at N or at an end marker.
//
// Usage: flow [packets] [multishot|plain]   (defaults: 100000 multishot)
// Prints one JSON line: {"mode":"multishot","sent":N,"received":R,"dropped":D,"seconds":S,"pps":X}
//
// Built by bench/run.ts: gcc -O2 -o bench/.build/flow bench/flow.c -luring

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PACKET_SIZE 512
#define RECV_SIZE 2048
#define RING_ENTRIES 4096
#define NUM_BUFFERS 256
// A provided buffer holds the io_uring_recvmsg_out header, then the payload (no name, no control).
#define HDR_BUFSZ (sizeof(struct io_uring_recvmsg_out) + RECV_SIZE)

enum { UD_RECV = 1, UD_SEND, UD_END, UD_TIMEOUT };

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int err) {
  fprintf(stderr, "flow: %s: %s\n", what, strerror(err));
  exit(1);
}

static struct io_uring_sqe *get_sqe(struct io_uring *ring) {
  struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
  if (sqe == NULL) {
    fprintf(stderr, "flow: submission queue full\n");
    exit(1);
  }
  return sqe;
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

static int udp_socket(void) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd < 0) die("socket", errno);
  return fd;
}

// The provided buffers of the multishot recvmsg: NUM_BUFFERS of HDR_BUFSZ bytes, group 0.
struct buffers {
  struct io_uring_buf_ring *ring;
  unsigned char *data;
  int mask;
};

static void init_buffers(struct io_uring *ring, struct buffers *b) {
  size_t ring_bytes = NUM_BUFFERS * sizeof(struct io_uring_buf);
  void *mem = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) die("mmap", errno);
  b->ring = mem;
  b->data = malloc(NUM_BUFFERS * HDR_BUFSZ);
  if (b->data == NULL) die("malloc", ENOMEM);
  b->mask = io_uring_buf_ring_mask(NUM_BUFFERS);
  io_uring_buf_ring_init(b->ring);
  struct io_uring_buf_reg reg;
  memset(&reg, 0, sizeof reg);
  reg.ring_addr = (unsigned long)mem;
  reg.ring_entries = NUM_BUFFERS;
  reg.bgid = 0;
  int ret = io_uring_register_buf_ring(ring, &reg, 0);
  if (ret < 0) die("io_uring_register_buf_ring", -ret);
  for (int i = 0; i < NUM_BUFFERS; i++) {
    io_uring_buf_ring_add(b->ring, b->data + i * HDR_BUFSZ, HDR_BUFSZ, (unsigned short)i, b->mask, i);
  }
  io_uring_buf_ring_advance(b->ring, NUM_BUFFERS);
}

static void give_back(struct buffers *b, unsigned short bid) {
  io_uring_buf_ring_add(b->ring, b->data + bid * HDR_BUFSZ, HDR_BUFSZ, bid, b->mask, 0);
  io_uring_buf_ring_advance(b->ring, 1);
}

// The state of one run, shared by both modes.
struct flow {
  struct io_uring ring;
  int multishot;
  int rx, tx;  // The receiving socket (fixed file 0 in multishot mode) and the sending one.
  struct msghdr send_msg, end_msg, recv_msg, ms_msg;
  struct buffers bufs;
  unsigned long long packets, sent, received;
  int done;  // The receiver has stopped (count reached or end marker seen).
  int send_in_flight;
  int timer_pending;  // The millisecond between two end markers.
  double end;  // The time of the last data packet.
};

static void queue_recv(struct flow *f) {
  struct io_uring_sqe *sqe = get_sqe(&f->ring);
  if (f->multishot) {
    io_uring_prep_recvmsg_multishot(sqe, 0, &f->ms_msg, 0);
    sqe->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
    sqe->buf_group = 0;
  } else {
    io_uring_prep_recvmsg(sqe, f->rx, &f->recv_msg, 0);
  }
  io_uring_sqe_set_data64(sqe, UD_RECV);
}

static void queue_send(struct flow *f, struct msghdr *msg, uint64_t ud) {
  struct io_uring_sqe *sqe = get_sqe(&f->ring);
  io_uring_prep_sendmsg(sqe, f->tx, msg, 0);
  io_uring_sqe_set_data64(sqe, ud);
  f->send_in_flight = 1;
}

// A datagram of `size` bytes arrived.
static void on_datagram(struct flow *f, unsigned long long size) {
  if (f->done) return;
  if (size < PACKET_SIZE) {
    f->done = 1;  // An end marker: what did not arrive was dropped.
    return;
  }
  f->received += size / PACKET_SIZE;
  f->end = now_seconds();
  if (f->received >= f->packets) f->done = 1;
}

static void reap(struct flow *f) {
  struct io_uring_cqe *cqes[256];
  unsigned n = io_uring_peek_batch_cqe(&f->ring, cqes, 256);
  for (unsigned i = 0; i < n; i++) {
    struct io_uring_cqe *cqe = cqes[i];
    uint64_t ud = io_uring_cqe_get_data64(cqe);
    if (ud == UD_TIMEOUT) {
      f->timer_pending = 0;
    } else if (ud == UD_SEND || ud == UD_END) {
      f->send_in_flight = 0;
      if (cqe->res == -ENOBUFS || cqe->res == -EAGAIN) continue;  // Sent again by the loop.
      if (cqe->res < 0 && ud == UD_SEND) die("sendmsg", -cqe->res);
      if (ud == UD_SEND) {
        if (cqe->res != PACKET_SIZE) die("sendmsg: short send", EIO);
        f->sent++;
      }
    } else if (ud == UD_RECV) {
      if (f->multishot) {
        if (cqe->res >= 0) {
          unsigned short bid = (unsigned short)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
          struct io_uring_recvmsg_out *out =
              io_uring_recvmsg_validate(f->bufs.data + bid * HDR_BUFSZ, cqe->res, &f->ms_msg);
          if (out == NULL) die("recvmsg: invalid buffer", EIO);
          on_datagram(f, io_uring_recvmsg_payload_length(out, cqe->res, &f->ms_msg));
          give_back(&f->bufs, bid);
        } else if (cqe->res != -ENOBUFS) {
          die("recvmsg", -cqe->res);
        }
        // The kernel ends a multishot recvmsg now and then (e.g. out of buffers): arm it again.
        if (!(cqe->flags & IORING_CQE_F_MORE) && !f->done) queue_recv(f);
      } else {
        if (cqe->res < 0) die("recvmsg", -cqe->res);
        on_datagram(f, (unsigned long long)cqe->res);
        if (!f->done) queue_recv(f);
      }
    }
  }
  io_uring_cq_advance(&f->ring, n);
}

int main(int argc, char **argv) {
  unsigned long long count = 100000;
  const char *mode = "multishot";
  if (argc > 1) {
    char *end = NULL;
    errno = 0;
    count = strtoull(argv[1], &end, 10);
    if (errno != 0 || end == argv[1] || *end != '\0' || count == 0 || count > (1ULL << 40)) {
      fprintf(stderr, "flow: packets must be a positive integer\n");
      return 2;
    }
  }
  if (argc > 2) mode = argv[2];
  if (strcmp(mode, "multishot") != 0 && strcmp(mode, "plain") != 0) {
    fprintf(stderr, "flow: mode must be multishot or plain\n");
    return 2;
  }

  static struct flow f;
  f.multishot = strcmp(mode, "multishot") == 0;
  f.packets = count;
  f.rx = udp_socket();
  f.tx = udp_socket();
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;  // The kernel picks a free port.
  if (bind(f.rx, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind", errno);
  socklen_t len = sizeof addr;
  if (getsockname(f.rx, (struct sockaddr *)&addr, &len) < 0) die("getsockname", errno);

  static unsigned char packet[PACKET_SIZE];
  static unsigned char recv_buf[RECV_SIZE];
  static struct sockaddr_in from;
  memset(packet, 'P', sizeof packet);
  struct iovec send_iov = {packet, PACKET_SIZE};
  struct iovec end_iov = {packet, 1};
  struct iovec recv_iov = {recv_buf, RECV_SIZE};
  f.send_msg = (struct msghdr){.msg_name = &addr, .msg_namelen = sizeof addr, .msg_iov = &send_iov, .msg_iovlen = 1};
  f.end_msg = (struct msghdr){.msg_name = &addr, .msg_namelen = sizeof addr, .msg_iov = &end_iov, .msg_iovlen = 1};
  f.recv_msg = (struct msghdr){.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &recv_iov, .msg_iovlen = 1};
  f.ms_msg = (struct msghdr){0};  // Multishot: no name, no control; the payload follows the header.

  init_ring(&f.ring);
  if (f.multishot) {
    int ret = io_uring_register_files(&f.ring, &f.rx, 1);
    if (ret < 0) die("io_uring_register_files", -ret);
    init_buffers(&f.ring, &f.bufs);
  }

  // The timed part starts here: setup (ring, registrations, buffers) is outside it, as in zig-aio.
  double start = now_seconds();
  f.end = start;
  queue_recv(&f);
  while (!f.done) {
    if (!f.send_in_flight) {
      if (f.sent < f.packets) {
        queue_send(&f, &f.send_msg, UD_SEND);
      } else if (!f.timer_pending) {
        // Every datagram is sent: an end marker, then a millisecond before the next one.
        f.timer_pending = 1;
        queue_send(&f, &f.end_msg, UD_END);
        struct io_uring_sqe *sqe = get_sqe(&f.ring);
        static struct __kernel_timespec ms = {0, 1000000};
        io_uring_prep_timeout(sqe, &ms, 0, 0);
        io_uring_sqe_set_data64(sqe, UD_TIMEOUT);
      }
    }
    int ret = io_uring_submit_and_wait(&f.ring, 1);
    if (ret < 0 && ret != -EINTR) die("io_uring_submit_and_wait", -ret);
    reap(&f);
  }
  double seconds = f.end - start;

  io_uring_queue_exit(&f.ring);
  close(f.rx);
  close(f.tx);
  printf("{\"mode\":\"%s\",\"sent\":%llu,\"received\":%llu,\"dropped\":%llu,\"seconds\":%.6f,\"pps\":%.1f}\n", mode,
         f.packets, f.received, f.packets - f.received, seconds, (double)f.received / seconds);
  return 0;
}

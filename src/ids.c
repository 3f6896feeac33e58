/* Trace and span ids, and the per-thread random generator behind them. */
/* getrandom, O_CLOEXEC, pthread_atfork, REG_STARTEND */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* ---- hex ---------------------------------------------------------------- */

int stp_trace_id_parse(stp_trace_id *out, const char *hex, size_t len) {
  if (!out || (!hex && len))
    return STP_ERR_INVALID_ARGUMENT;
  if (len != STP_TRACE_ID_HEX_LEN || !stp__hex_digits(out->bytes, hex, 16))
    return STP_ERR_TRACE_ID;
  return stp__all_zero(out->bytes, 16) ? STP_ERR_ZERO_ID : STP_OK;
}

int stp_span_id_parse(stp_span_id *out, const char *hex, size_t len) {
  if (!out || (!hex && len))
    return STP_ERR_INVALID_ARGUMENT;
  if (len != STP_SPAN_ID_HEX_LEN || !stp__hex_digits(out->bytes, hex, 8))
    return STP_ERR_SPAN_ID;
  return stp__all_zero(out->bytes, 8) ? STP_ERR_ZERO_ID : STP_OK;
}

void stp_trace_id_format(const stp_trace_id *id,
                         char out[STP_TRACE_ID_HEX_LEN + 1]) {
  *stp__hex_put(out, id->bytes, 16) = '\0';
}

void stp_span_id_format(const stp_span_id *id,
                        char out[STP_SPAN_ID_HEX_LEN + 1]) {
  *stp__hex_put(out, id->bytes, 8) = '\0';
}

bool stp_trace_id_is_zero(const stp_trace_id *id) {
  return stp__all_zero(id->bytes, 16);
}

bool stp_span_id_is_zero(const stp_span_id *id) {
  return stp__all_zero(id->bytes, 8);
}

/* ---- random ------------------------------------------------------------- */

/* xoshiro256** per thread (Blackman and Vigna's published algorithm). The
 * state is seeded from getrandom once per thread, and again in a forked
 * child so that parent and child never hand out the same ids. */

typedef struct {
  uint64_t s[4];
  unsigned generation;
  bool seeded;
} rng_state;

static _Thread_local rng_state rng;
static atomic_uint fork_generation;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void on_fork_child(void) {
  atomic_fetch_add_explicit(&fork_generation, 1, memory_order_relaxed);
}

static void register_atfork(void) {
  pthread_atfork(NULL, NULL, on_fork_child);
}

static uint64_t splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

static bool os_random(void *buf, size_t len) {
  uint8_t *p = buf;
  while (len > 0) {
    ssize_t n = getrandom(p, len, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    p += n;
    len -= (size_t)n;
  }
  if (len == 0)
    return true;
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  while (len > 0) {
    ssize_t n = read(fd, p, len);
    if (n <= 0) {
      if (n < 0 && errno == EINTR)
        continue;
      break;
    }
    p += n;
    len -= (size_t)n;
  }
  close(fd);
  return len == 0;
}

STP__COLD static void seed(void) {
  pthread_once(&atfork_once, register_atfork);
  uint64_t s[4];
  if (!os_random(s, sizeof s)) {
    /* No OS entropy at all: fall back on what differs between threads and
     * runs. Ids stay unique in practice, not unpredictable. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    x ^= (uint64_t)(uintptr_t)&rng ^ ((uint64_t)getpid() << 32);
    for (int i = 0; i < 4; i++)
      s[i] = splitmix(&x);
  }
  if ((s[0] | s[1] | s[2] | s[3]) == 0)
    s[0] = 1;
  memcpy(rng.s, s, sizeof s);
  rng.generation = atomic_load_explicit(&fork_generation, memory_order_relaxed);
  rng.seeded = true;
}

static inline uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

STP__HOT uint64_t stp_random_u64(void) {
  if (!rng.seeded ||
      rng.generation !=
          atomic_load_explicit(&fork_generation, memory_order_relaxed))
    seed();
  uint64_t *s = rng.s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

uint32_t stp__random_range(uint32_t lo, uint32_t hi) {
  uint64_t span = (uint64_t)hi - lo;
  return lo + (uint32_t)(((stp_random_u64() >> 32) * span) >> 32);
}

/* Big-endian, written out so that the compiler makes it one store. */
static void put64(uint8_t *out, uint64_t v) {
  out[0] = (uint8_t)(v >> 56);
  out[1] = (uint8_t)(v >> 48);
  out[2] = (uint8_t)(v >> 40);
  out[3] = (uint8_t)(v >> 32);
  out[4] = (uint8_t)(v >> 24);
  out[5] = (uint8_t)(v >> 16);
  out[6] = (uint8_t)(v >> 8);
  out[7] = (uint8_t)v;
}

void stp_trace_id_random(stp_trace_id *out) {
  uint64_t hi, lo;
  do {
    hi = stp_random_u64();
    lo = stp_random_u64();
  } while ((hi | lo) == 0); /* all zero is not a valid id */
  put64(out->bytes, hi);
  put64(out->bytes + 8, lo);
}

void stp_span_id_random(stp_span_id *out) {
  uint64_t v;
  do {
    v = stp_random_u64();
  } while (v == 0);
  put64(out->bytes, v);
}

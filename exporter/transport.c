/* One POST of an envelope with libcurl, on the sending thread. libcurl
 * is what sentry-native uses too: in Debian, kept up to date there, with
 * HTTPS, proxies (http_proxy, https_proxy, no_proxy) and keep-alive
 * connections reused across envelopes. */
#define _POSIX_C_SOURCE 200809L

#include <curl/curl.h>
#include <string.h>

#include "internal.h"

typedef struct answer {
  stp_exporter *x;
  char *retry_after;
  char *rate_limits;
} answer;

/* Copies the value of `name: value` into dst when the line's name is
 * `name` (any case); trims spaces and the CR LF; cut at
 * STP__HEADER_KEEP - 1 bytes. */
static void take_header(char *dst, const char *line, size_t n,
                        const char *name) {
  size_t name_len = strlen(name);
  if (n <= name_len || line[name_len] != ':' ||
      !stp_header_name_equal(line, name_len, name, name_len))
    return;
  const char *v = line + name_len + 1, *end = line + n;
  while (v < end && (*v == ' ' || *v == '\t'))
    v++;
  while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
    end--;
  size_t len = (size_t)(end - v);
  if (len > STP__HEADER_KEEP - 1)
    len = STP__HEADER_KEEP - 1;
  memcpy(dst, v, len);
  dst[len] = '\0';
}

static size_t on_header(char *line, size_t size, size_t n, void *user) {
  answer *a = user;
  /* A 1xx answer or a redirect's headers come first: a new status line
   * starts the headers of the answer that counts. */
  if (n >= 5 && memcmp(line, "HTTP/", 5) == 0)
    a->retry_after[0] = a->rate_limits[0] = '\0';
  take_header(a->retry_after, line, n, "retry-after");
  take_header(a->rate_limits, line, n, "x-sentry-rate-limits");
  return size * n;
}

static size_t on_body(char *data, size_t size, size_t n, void *user) {
  (void)data;
  (void)user;
  return size * n; /* read and forgotten */
}

/* Cuts a request short once a stopping exporter's flush time is over. */
static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow) {
  (void)dltotal;
  (void)dlnow;
  (void)ultotal;
  (void)ulnow;
  stp_exporter *x = ((answer *)user)->x;
  pthread_mutex_lock(&x->mu);
  bool over = x->stopping && stp__x_now_ms() >= x->deadline_ms;
  pthread_mutex_unlock(&x->mu);
  return over ? 1 : 0;
}

/* The time one request may take: send_timeout_ms, or what is left of the
 * flush time when stopping (at least 1 ms: 0 means no limit to libcurl). */
static long time_allowed(stp_exporter *x) {
  long ms = (long)x->o.send_timeout_ms;
  pthread_mutex_lock(&x->mu);
  if (x->stopping) {
    uint64_t now = stp__x_now_ms();
    long left = x->deadline_ms > now ? (long)(x->deadline_ms - now) : 1;
    if (left < ms)
      ms = left;
  }
  pthread_mutex_unlock(&x->mu);
  return ms;
}

static struct curl_slist *headers_of(const stp__target *t) {
  struct curl_slist *h = NULL, *next;
  const char *lines[] = {"Content-Type: application/x-sentry-envelope",
                         "Expect:", t->auth};
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    if (!lines[i])
      continue;
    if (!(next = curl_slist_append(h, lines[i]))) {
      curl_slist_free_all(h);
      return NULL;
    }
    h = next;
  }
  return h;
}

int stp__x_post(stp_exporter *x, stp__target *t, const stp__buf *body,
                long *status, char retry_after[STP__HEADER_KEEP],
                char rate_limits[STP__HEADER_KEEP]) {
  *status = 0;
  retry_after[0] = rate_limits[0] = '\0';
  if (!t->curl && !(t->curl = curl_easy_init()))
    return -1;
  CURL *c = t->curl;
  struct curl_slist *headers = headers_of(t);
  if (!headers)
    return -1;
  answer a = {x, retry_after, rate_limits};
  long ms = time_allowed(x);
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, t->url);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->p);
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "stp/" STP_VERSION);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ms);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &a);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &a);
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
  curl_slist_free_all(headers);
  return rc == CURLE_OK ? 0 : -1;
}

void stp__x_target_close(stp__target *t) {
  if (t->curl)
    curl_easy_cleanup(t->curl);
  t->curl = NULL;
}

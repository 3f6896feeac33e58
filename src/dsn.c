/* DSN parsing: the parts the config (public key, org id) and the exporter
 * (where to send) need. */
#include "internal.h"

static bool all_of(const char *s, size_t n, bool alnum) {
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    bool ok = (c >= '0' && c <= '9') ||
              (alnum && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')));
    if (!ok)
      return false;
  }
  return true;
}

static const char *find(const char *p, const char *end, char c) {
  return memchr(p, c, (size_t)(end - p));
}

/* The org id of a host such as o447951.ingest.sentry.io. */
static void org_of_host(stp_dsn *d) {
  const char *h = d->host, *end = h + d->host_len, *p = h + 1;
  if (d->host_len < 3 || *h != 'o')
    return;
  while (p < end && *p >= '0' && *p <= '9')
    p++;
  if (p > h + 1 && p < end && *p == '.') {
    d->org_id = h + 1;
    d->org_id_len = (size_t)(p - h - 1);
  }
}

int stp_dsn_parse(stp_dsn *out, const char *dsn, size_t len) {
  if (!out || (!dsn && len) || stp__has_ctl(dsn, len))
    return STP_ERR_DSN;
  stp_dsn d;
  memset(&d, 0, sizeof d);
  const char *end = dsn + len, *sep = NULL;
  for (const char *p = dsn; p && p + 3 <= end; p++)
    if (p[0] == ':' && p[1] == '/' && p[2] == '/') {
      sep = p;
      break;
    }
  if (!sep || !(stp__name_eq(dsn, (size_t)(sep - dsn), "https", 5) ||
                stp__name_eq(dsn, (size_t)(sep - dsn), "http", 4)))
    return STP_ERR_DSN;
  d.scheme = dsn;
  d.scheme_len = (size_t)(sep - dsn);
  const char *auth = sep + 3, *slash = find(auth, end, '/');
  const char *at = slash ? find(auth, slash, '@') : NULL;
  if (!at)
    return STP_ERR_DSN;
  const char *colon = find(auth, at, ':');
  d.public_key = auth;
  d.public_key_len = (size_t)((colon ? colon : at) - auth);
  if (colon) {
    d.secret = colon + 1;
    d.secret_len = (size_t)(at - colon - 1);
  }
  d.host = at + 1;
  const char *host_end = find(d.host, slash, ':');
  d.host_len = (size_t)((host_end ? host_end : slash) - d.host);
  if (host_end) {
    d.port = host_end + 1;
    d.port_len = (size_t)(slash - d.port);
  }
  /* The project id is the last path segment. */
  const char *project = end;
  while (project > slash + 1 && project[-1] != '/')
    project--;
  d.project_id = project;
  d.project_id_len = (size_t)(end - project);
  if (project - 1 > slash + 1) {
    d.path = slash + 1;
    d.path_len = (size_t)(project - 1 - d.path);
  }
  if (d.public_key_len == 0 || !all_of(d.public_key, d.public_key_len, true) ||
      d.host_len == 0 || !all_of(d.port, d.port_len, false) ||
      (d.port && d.port_len == 0) || d.project_id_len == 0 ||
      d.project_id_len > 20 || !all_of(d.project_id, d.project_id_len, false))
    return STP_ERR_DSN;
  org_of_host(&d);
  *out = d;
  return STP_OK;
}

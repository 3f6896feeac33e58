#define _POSIX_C_SOURCE 200809L

#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_options_init(cli_options *o, int server, int default_port) {
  memset(o, 0, sizeof *o);
  stp_options_init(&o->stp);
  o->server = server;
  o->port = default_port;
}

int cli_number(const char *v, long lo, long hi) {
  char *end;
  errno = 0;
  long n = strtol(v, &end, 10);
  return *v && !*end && errno == 0 && n >= lo && n <= hi ? (int)n : -1;
}

/* The flags: options without a value. */
static int flag(cli_options *o, const char *a) {
  bool *slot = strcmp(a, "--strict") == 0 ? &o->stp.strict_trace_continuation
               : strcmp(a, "--traceparent") == 0 ? &o->stp.propagate_traceparent
               : strcmp(a, "--third-party") == 0
                   ? &o->stp.propagate_third_party_baggage
                   : NULL;
  if (!slot)
    return 0;
  *slot = true;
  return 1;
}

int cli_option(cli_options *o, int argc, char **argv, int *i) {
  const char *a = argv[*i];
  if (flag(o, a))
    return 1;
  const char **text = strcmp(a, "--dsn") == 0           ? &o->stp.dsn
                      : strcmp(a, "--release") == 0     ? &o->stp.release
                      : strcmp(a, "--environment") == 0 ? &o->stp.environment
                      : strcmp(a, "--org-id") == 0      ? &o->stp.org_id
                      : strcmp(a, "--spans") == 0       ? &o->spans
                      : o->server && strcmp(a, "--port-file") == 0
                          ? &o->port_file
                          : NULL;
  int is_rate = strcmp(a, "--sample-rate") == 0;
  int is_port = o->server && strcmp(a, "--port") == 0;
  if (!text && !is_rate && !is_port)
    return 0;
  if (*i + 1 >= argc)
    return -1;
  const char *v = argv[++*i];
  if (text) {
    *text = v;
  } else if (is_port) {
    if ((o->port = cli_number(v, 0, 65535)) < 0)
      return -1;
  } else {
    char *end;
    o->stp.has_sample_rate = true;
    o->stp.sample_rate = strtod(v, &end); /* its range: stp_config_new */
    if (*v == '\0' || *end != '\0')
      return -1;
  }
  return 1;
}

int cli_config(stp_config **cfg, cli_options *o, const char *program) {
  int err = STP_OK;
  if (getenv("SENTRY_SPOTLIGHT") && !o->exporter) {
    stp_exporter_options eo;
    stp_exporter_options_init(&eo);
    eo.spotlight_only = true;
    err = stp_exporter_new(&o->exporter, &o->stp, &eo, NULL);
    o->stp.on_record = stp_exporter_record;
    o->stp.record_user = o->exporter;
  }
  if (err == STP_OK)
    err = stp_config_new(cfg, &o->stp, NULL);
  if (err != STP_OK) {
    stp_exporter_del(o->exporter);
    o->exporter = NULL;
  }
  if (err != STP_OK)
    fprintf(stderr, "%s: %s\n", program, stp_strerror(err));
  return err;
}

void cli_config_del(cli_options *o, stp_config *cfg) {
  stp_config_del(cfg);
  stp_exporter_del(o->exporter);
  o->exporter = NULL;
}

int cli_header(const char *arg, size_t *name_len, const char **value) {
  const char *colon = strchr(arg, ':');
  if (!colon || colon == arg)
    return -1;
  *name_len = (size_t)(colon - arg);
  const char *v = colon + 1;
  while (*v == ' ' || *v == '\t')
    v++;
  *value = v;
  return 0;
}

int cli_header_lower(char *arg, size_t *name_len, const char **value) {
  if (cli_header(arg, name_len, value) != 0)
    return -1;
  for (size_t k = 0; k < *name_len; k++)
    arg[k] = (char)tolower((unsigned char)arg[k]);
  return 0;
}

int cli_write_port_file(const char *path, int port) {
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
    errno = ENAMETOOLONG;
    return -1;
  }
  FILE *f = fopen(tmp, "w");
  if (!f)
    return -1;
  int ok = fprintf(f, "%d\n", port) > 0;
  if (fclose(f) != 0 || !ok)
    return -1;
  return rename(tmp, path);
}

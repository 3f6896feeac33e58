/* The command line of `stp continue` and `stp new`. */
#include "args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void trace_args_free(trace_args *a) {
  free(a->headers);
  free(a->targets);
  free(a->existing);
}

/* Split `NAME: VALUE`. Leading spaces and tabs of the value are dropped;
 * the library ignores trailing ones. */
static bool split_header(const char *arg, header *h) {
  const char *colon = strchr(arg, ':');
  if (colon == NULL || colon == arg)
    return false;
  const char *v = colon + 1;
  while (*v == ' ' || *v == '\t')
    v++;
  h->name = arg;
  h->name_len = (size_t)(colon - arg);
  h->value = v;
  h->value_len = strlen(v);
  return true;
}

static bool append_existing(trace_args *a, const char *arg) {
  /* Accept the header form `baggage: VALUE` as well as a bare value; a
   * bare value cannot start like that, since ':' is not a key character. */
  static const char name[] = "baggage:";
  size_t k = 0;
  while (k < sizeof name - 1 && arg[k] != '\0' && (arg[k] | 0x20) == name[k])
    k++;
  if (k == sizeof name - 1) {
    arg += k;
    while (*arg == ' ' || *arg == '\t')
      arg++;
  }
  size_t len = strlen(arg);
  size_t sep = a->existing_len > 0 ? 1 : 0;
  char *nb = realloc(a->existing, a->existing_len + sep + len + 1);
  if (nb == NULL)
    return false;
  if (sep)
    nb[a->existing_len] = ',';
  memcpy(nb + a->existing_len + sep, arg, len + 1);
  a->existing = nb;
  a->existing_len += sep + len;
  return true;
}

/* The argument after option `name`, at argv[*i + 1]; NULL after a
 * message when there is none, or when it is another option (`--dsn
 * --strict` forgot the DSN: taking `--strict` as one would hide that). */
static const char *next_value(int argc, char **argv, int *i, const char *name) {
  if (*i + 1 >= argc) {
    usage_error("%s needs a value", name);
    return NULL;
  }
  const char *v = argv[*i + 1];
  if (looks_like_option(v) || strcmp(v, "-H") == 0) {
    usage_error("%s needs a value, not the option '%s' (a value that "
                "starts with '--' goes as %s=VALUE)",
                name, v, name);
    return NULL;
  }
  ++*i;
  return v;
}

/* Match `--name VALUE` or `--name=VALUE`; *i is advanced past VALUE.
 * Returns 1 (matched), 0 (another argument) or -1 (matched, no value). */
static int take_value(int argc, char **argv, int *i, const char *name,
                      const char **out) {
  const char *arg = argv[*i];
  size_t n = strlen(name);
  if (strncmp(arg, name, n) != 0)
    return 0;
  if (arg[n] == '=') {
    *out = arg + n + 1;
    return 1;
  }
  if (arg[n] != '\0')
    return 0;
  *out = next_value(argc, argv, i, name);
  return *out != NULL ? 1 : -1;
}

int parse_trace_args(int argc, char **argv, bool is_continue, trace_args *a) {
  const char *cmd = is_continue ? "continue" : "new";
  stp_options_init(&a->opts);
  a->headers = malloc(((size_t)argc + 1) * sizeof *a->headers);
  a->targets = malloc(((size_t)argc + 1) * sizeof *a->targets);
  if (a->headers == NULL || a->targets == NULL) {
    fputs("stp: out of memory\n", stderr);
    return EXIT_INTERNAL;
  }
  for (int i = 0; i < argc; i++) {
    const char *arg = argv[i], *val = NULL;
    int r;
    if (is_continue &&
        (strncmp(arg, "-H", 2) == 0 || strcmp(arg, "--header") == 0 ||
         strncmp(arg, "--header=", 9) == 0)) {
      if (strcmp(arg, "-H") == 0 || strcmp(arg, "--header") == 0) {
        val = next_value(argc, argv, &i, arg);
        if (val == NULL)
          return EXIT_USAGE;
      } else {
        val = arg[1] == 'H' ? arg + 2 : arg + 9;
      }
      if (!split_header(val, &a->headers[a->n_headers])) {
        usage_error("continue: header '%s' is not 'NAME: VALUE'", val);
        return EXIT_USAGE;
      }
      a->n_headers++;
      continue;
    }
    if (is_continue && strcmp(arg, "--env") == 0) {
      a->env = true;
      continue;
    }
    if (is_continue &&
        (r = take_value(argc, argv, &i, "--existing", &val)) != 0) {
      if (r < 0)
        return EXIT_USAGE;
      if (!append_existing(a, val)) {
        fputs("stp: out of memory\n", stderr);
        return EXIT_INTERNAL;
      }
      continue;
    }
    if (out_option(&a->out, arg)) {
      continue;
    } else if (strcmp(arg, "--meta") == 0) {
      a->meta = true;
    } else if (strcmp(arg, "--strict") == 0) {
      a->opts.strict_trace_continuation = true;
    } else if (strcmp(arg, "--propagate-traceparent") == 0) {
      a->opts.propagate_traceparent = true;
    } else if (strcmp(arg, "--no-accept-traceparent") == 0) {
      a->opts.accept_traceparent = false;
    } else if (strcmp(arg, "--propagate-third-party") == 0) {
      a->opts.propagate_third_party_baggage = true;
    } else if ((r = take_value(argc, argv, &i, "--dsn", &val)) != 0) {
      if (r < 0)
        return EXIT_USAGE;
      a->opts.dsn = val;
    } else if ((r = take_value(argc, argv, &i, "--release", &val)) != 0) {
      if (r < 0)
        return EXIT_USAGE;
      a->opts.release = val;
    } else if ((r = take_value(argc, argv, &i, "--environment", &val)) != 0) {
      if (r < 0)
        return EXIT_USAGE;
      a->opts.environment = val;
    } else if ((r = take_value(argc, argv, &i, "--org-id", &val)) != 0) {
      if (r < 0)
        return EXIT_USAGE;
      a->opts.org_id = val;
    } else if ((r = take_value(argc, argv, &i, "--target", &val)) != 0) {
      if (r < 0)
        return EXIT_USAGE;
      a->targets[a->n_targets++] = val;
    } else if ((r = take_value(argc, argv, &i, "--url", &val)) != 0) {
      if (r < 0)
        return EXIT_USAGE;
      a->url = val;
    } else if ((r = take_value(argc, argv, &i, "--transaction", &val)) != 0) {
      if (r < 0)
        return EXIT_USAGE;
      a->transaction = val;
    } else if ((r = take_value(argc, argv, &i, "--sample-rate", &val)) != 0) {
      if (r < 0)
        return EXIT_USAGE;
      /* Only the form is checked here: stp_config_new checks the range
       * (an underflow to 0 or a subnormal is a rate in [0, 1]; an
       * overflow is infinite, and refused there). */
      char *end = NULL;
      double rate = strtod(val, &end);
      if (*val == '\0' || end == NULL || *end != '\0') {
        fprintf(stderr, "stp: --sample-rate '%s': %s: %s\n", val,
                stp_error_name(STP_ERR_SAMPLE_RATE),
                stp_strerror(STP_ERR_SAMPLE_RATE));
        return EXIT_USAGE;
      }
      a->opts.has_sample_rate = true;
      a->opts.sample_rate = rate;
    } else {
      usage_error("%s: unknown argument '%s'", cmd, arg);
      return EXIT_USAGE;
    }
  }
  if (a->env && a->n_headers > 0) {
    usage_error("continue: use either -H or --env, not both");
    return EXIT_USAGE;
  }
  if (a->n_targets > 0) {
    a->opts.targets = a->targets;
    a->opts.targets_len = a->n_targets;
  }
  return EXIT_VALID;
}

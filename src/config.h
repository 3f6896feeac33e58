/* The config's private layout, read directly by the core's other files
 * (an immutable config is only read); not installed. */
#ifndef STP_CONFIG_H
#define STP_CONFIG_H

#include <regex.h>

#include "internal.h"

/* A member of a head's DSC that comes from the options. */
typedef struct stp__dsc_static {
  const char *key; /* full key, "sentry-..." */
  size_t key_len;
  const char *value; /* already percent-encoded */
  size_t value_len;
  bool after_decision; /* goes after sample_rand and sampled */
} stp__dsc_static;

enum { STP__HEAD_MAX = 5 }; /* public_key, org_id, sample_rate, release, env */

struct stp_config {
  stp_allocator alloc;
  const char *public_key, *org_id, *release, *environment;
  bool has_rate;
  double rate;
  bool strict, propagate_tp, accept_tp, propagate_third_party;
  bool match_all;
  stp_span_record_fn on_record;
  void *record_user;
  size_t n_targets;
  regex_t *targets;
  /* The head's static DSC members, values percent-encoded, in order. */
  size_t n_head;
  stp__dsc_static head[STP__HEAD_MAX];
};

#endif /* STP_CONFIG_H */

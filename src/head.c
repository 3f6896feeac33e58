/* New traces: a context as the head of a trace, with its own DSC (SPEC
 * section 5, "head of a trace"). */
#include "context.h"

void stp__start_head(stp__ctx *ctx) {
  const stp_config *cfg = ctx->cfg;
  bool has_rate = cfg->has_rate;
  double rate = cfg->rate;

  stp_trace_id_random(&ctx->span.trace_id);
  stp_span_id_random(&ctx->span.span_id);
  memset(&ctx->span.parent_span_id, 0, sizeof ctx->span.parent_span_id);
  ctx->span.has_parent = false;
  uint32_t k = stp__random_range(0, STP__RAND_SCALE);
  ctx->sample_rand = (double)k / STP__RAND_SCALE;
  ctx->span.sampled = !has_rate                 ? STP_SAMPLED_DEFERRED
                      : ctx->sample_rand < rate ? STP_SAMPLED_YES
                                                : STP_SAMPLED_NO;
  ctx->continued = false;
  ctx->frozen = false;
  stp__store_clear(ctx);

  /* DSC order: trace_id, public_key, org_id, sample_rate, sample_rand,
   * sampled, release, environment (transaction when set). */
  char hex[STP_TRACE_ID_HEX_LEN + 1];
  stp_trace_id_format(&ctx->span.trace_id, hex);
  stp__member_add(ctx, STP__KEY("sentry-trace_id"), hex, STP_TRACE_ID_HEX_LEN,
                  true);
  const stp__dsc_static *head = cfg->head;
  size_t n = cfg->n_head;
  size_t i = 0;
  /* public_key, org_id, sample_rate come before sample_rand. */
  for (; i < n && !head[i].after_decision; i++)
    stp__member_add(ctx, head[i].key, head[i].key_len, head[i].value,
                    head[i].value_len, true);
  stp__add_sample_rand(ctx, k);
  if (ctx->span.sampled == STP_SAMPLED_YES)
    stp__member_add(ctx, STP__KEY("sentry-sampled"), STP__KEY("true"), true);
  else if (ctx->span.sampled == STP_SAMPLED_NO)
    stp__member_add(ctx, STP__KEY("sentry-sampled"), STP__KEY("false"), true);
  for (; i < n; i++)
    stp__member_add(ctx, head[i].key, head[i].key_len, head[i].value,
                    head[i].value_len, true);
}

int stp_context_init(stp_context *context, const stp_config *cfg) {
  if (!context || !cfg)
    return STP_ERR_INVALID_ARGUMENT;
  stp__ctx *ctx = stp__ctx_of(context);
  stp_context_begin(context, cfg);
  ctx->feeding = false;
  stp__start_head(ctx);
  ctx->status = STP_OK;
  return STP_OK;
}

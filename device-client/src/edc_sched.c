#include "edc/edc_sched.h"

#include <string.h>

void edc_sched_config_default(edc_sched_config_t *cfg) {
  if (cfg == NULL) return;
  cfg->renew_num = 2;
  cfg->renew_den = 3;
  cfg->jitter_permille = 50;
  cfg->backoff_initial_s = 60;
  cfg->backoff_max_s = 6 * 3600;
  cfg->retry_after_max_s = 24 * 3600;
}

int edc_sched_init(edc_sched_t *s, const edc_sched_config_t *cfg) {
  if (s == NULL) return EDC_ERR_INVALID_ARG;
  memset(s, 0, sizeof(*s));
  if (cfg == NULL) {
    edc_sched_config_default(&s->cfg);
  } else {
    if (cfg->renew_den == 0 || cfg->renew_num > cfg->renew_den || cfg->jitter_permille > 1000 ||
        cfg->backoff_initial_s == 0 || cfg->backoff_max_s < cfg->backoff_initial_s)
      return EDC_ERR_INVALID_ARG;
    s->cfg = *cfg;
  }
  s->next_s = 0; /* due now */
  return EDC_OK;
}

void edc_sched_free(edc_sched_t *s) {
  if (s != NULL) memset(s, 0, sizeof(*s));
}

int64_t edc_sched_plan(edc_sched_t *s, int64_t not_before, int64_t not_after, uint32_t rnd) {
  int64_t life, at, jitter;
  if (s == NULL) return 0;
  life = not_after > not_before ? not_after - not_before : 0;
  at = not_before + (life / (int64_t)s->cfg.renew_den) * (int64_t)s->cfg.renew_num +
       ((life % (int64_t)s->cfg.renew_den) * (int64_t)s->cfg.renew_num) / (int64_t)s->cfg.renew_den;
  jitter = (life / 1000) * (int64_t)s->cfg.jitter_permille +
           ((life % 1000) * (int64_t)s->cfg.jitter_permille) / 1000;
  if (jitter > 0) at -= (int64_t)((uint64_t)rnd % (uint64_t)(jitter + 1));
  if (at < not_before) at = not_before;
  s->failures = 0;
  s->renew_at = at;
  s->next_s = at;
  return at;
}

int64_t edc_sched_failed(edc_sched_t *s, int64_t now, int has_retry_after, uint32_t retry_after_s,
                         uint32_t rnd) {
  uint64_t d;
  if (s == NULL) return now;
  if (s->failures < 0xffffffffu) s->failures++;
  if (has_retry_after) {
    d = retry_after_s > s->cfg.retry_after_max_s ? s->cfg.retry_after_max_s : retry_after_s;
    s->next_s = now + (int64_t)d;
    return s->next_s;
  }
  d = s->cfg.backoff_initial_s;
  {
    uint32_t i;
    for (i = 1; i < s->failures && d < s->cfg.backoff_max_s; i++) d <<= 1;
  }
  if (d > s->cfg.backoff_max_s) d = s->cfg.backoff_max_s;
  /* "equal jitter": wait in [d/2, d] so a fleet that failed together spreads out */
  d = d / 2 + (uint64_t)rnd % (d - d / 2 + 1);
  s->next_s = now + (int64_t)d;
  return s->next_s;
}

edc_action_t edc_sched_decide(const edc_sched_t *s, int64_t now, int have_op,
                              int64_t op_not_after) {
  if (s == NULL || now < s->next_s) return EDC_ACTION_WAIT;
  if (!have_op || now >= op_not_after) return EDC_ACTION_ENROLL_BOOTSTRAP;
  return EDC_ACTION_REENROLL;
}

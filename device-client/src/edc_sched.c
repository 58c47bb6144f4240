#include "edc/edc_sched.h"

#include <string.h>

#include "edc/edc_config.h"

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

/* v * num / den without overflowing 64 bits (v >= 0, num <= den or num small). */
EDC_NOINLINE static int64_t frac(int64_t v, uint32_t num, uint32_t den) {
  return (v / den) * num + ((v % den) * num) / den;
}

int64_t edc_sched_plan(edc_sched_t *s, int64_t not_before, int64_t not_after, uint32_t rnd) {
  int64_t life, at, jitter;
  if (s == NULL) return 0;
  life = not_after > not_before ? not_after - not_before : 0;
  at = not_before + frac(life, s->cfg.renew_num, s->cfg.renew_den);
  jitter = frac(life, s->cfg.jitter_permille, 1000);
  if (jitter > 0) at -= (int64_t)((uint64_t)rnd % (uint64_t)(jitter + 1));
  if (at < not_before) at = not_before;
  s->failures = 0;
  s->renew_at = at;
  s->next_s = at;
  return at;
}

int64_t edc_sched_failed(edc_sched_t *s, int64_t now, int has_retry_after, uint32_t retry_after_s,
                         uint32_t rnd) {
  uint32_t d, max, i;
  if (s == NULL) return now;
  if (s->failures < 0xffffffffu) s->failures++;
  if (has_retry_after) {
    d = retry_after_s > s->cfg.retry_after_max_s ? s->cfg.retry_after_max_s : retry_after_s;
  } else {
    max = s->cfg.backoff_max_s;
    d = s->cfg.backoff_initial_s;
    for (i = 1; i < s->failures && d < max; i++) d = d > max / 2 ? max : d * 2;
    if (d > max) d = max;
    /* "equal jitter": wait in [d/2, d] so a fleet that failed together spreads out */
    d = d / 2 + rnd % (d - d / 2 + 1);
  }
  s->next_s = now + (int64_t)d;
  return s->next_s;
}

edc_action_t edc_sched_decide(const edc_sched_t *s, int64_t now, int have_op,
                              int64_t op_not_after) {
  if (s == NULL || now < s->next_s) return EDC_ACTION_WAIT;
  if (!have_op || now >= op_not_after) return EDC_ACTION_ENROLL_BOOTSTRAP;
  return EDC_ACTION_REENROLL;
}

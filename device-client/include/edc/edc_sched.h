/**
 * @file edc_sched.h
 * The renewal scheduler: pure logic over an injected clock value and random numbers, so tests
 * can drive it through years in microseconds.
 */
#ifndef EDC_SCHED_H
#define EDC_SCHED_H

#include <stdint.h>

#include "edc/edc_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Renewal policy. */
typedef struct edc_sched_config {
  uint32_t renew_num; /**< renew at renew_num/renew_den of the lifetime (2/3) */
  uint32_t renew_den;
  uint32_t jitter_permille;   /**< renew up to this share of the lifetime earlier (50 = 5%) */
  uint32_t backoff_initial_s; /**< first retry delay after a failure (60) */
  uint32_t backoff_max_s;     /**< cap of the exponential backoff (21600) */
  uint32_t retry_after_max_s; /**< longest Retry-After honoured (86400) */
} edc_sched_config_t;

/** What the client should do now. */
typedef enum edc_action {
  EDC_ACTION_WAIT = 0,        /**< nothing to do before edc_sched_t.next_s */
  EDC_ACTION_REENROLL,        /**< re-enroll with the operational certificate */
  EDC_ACTION_ENROLL_BOOTSTRAP /**< enroll with the bootstrap credentials */
} edc_action_t;

/** Scheduler state. */
typedef struct edc_sched {
  edc_sched_config_t cfg;
  uint32_t failures; /**< consecutive failed attempts */
  int64_t next_s;    /**< earliest time of the next attempt (wall clock seconds) */
  int64_t renew_at;  /**< planned renewal time of the current certificate */
} edc_sched_t;

/** Fill @p cfg with the defaults shown above. */
void edc_sched_config_default(edc_sched_config_t *cfg);
/** Start with @p cfg (NULL: defaults); the first attempt is due immediately. */
int edc_sched_init(edc_sched_t *s, const edc_sched_config_t *cfg);
/** Zeroize (NULL-safe). */
void edc_sched_free(edc_sched_t *s);

/**
 * A new certificate valid [not_before, not_after) was installed: plan its renewal at
 * not_before + lifetime * num/den minus a jitter of (rnd mod (lifetime * permille/1000 + 1))
 * seconds, never before not_before. Resets the failure count. Returns the renewal time.
 */
int64_t edc_sched_plan(edc_sched_t *s, int64_t not_before, int64_t not_after, uint32_t rnd);

/**
 * An attempt failed at @p now. With a Retry-After, the next attempt is exactly that far away
 * (clamped to retry_after_max_s). Otherwise exponential backoff: d = initial * 2^(failures-1)
 * capped at backoff_max_s, and the wait is drawn from [d/2, d] with @p rnd. Returns next_s.
 */
int64_t edc_sched_failed(edc_sched_t *s, int64_t now, int has_retry_after, uint32_t retry_after_s,
                         uint32_t rnd);

/**
 * Decide at @p now. @p have_op says an operational certificate is installed, valid until
 * @p op_not_after. An expired or absent operational certificate means falling back to the
 * bootstrap credentials.
 */
edc_action_t edc_sched_decide(const edc_sched_t *s, int64_t now, int have_op, int64_t op_not_after);

#ifdef __cplusplus
}
#endif
#endif /* EDC_SCHED_H */

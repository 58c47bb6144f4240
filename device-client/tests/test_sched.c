/* The renewal scheduler (edc_sched.c) driven by an injected clock and injected random numbers. */
#include "edc/edc_sched.h"
#include "unity_compat.h"

#define DAY 86400LL

static edc_sched_t g_s;

static void setup_default(void) { TEST_ASSERT_EQUAL_INT(0, edc_sched_init(&g_s, NULL)); }

static void test_renews_at_two_thirds_without_jitter(void) {
  setup_default();
  /* 90-day certificate from t=1000: 2/3 is day 60; random 0 gives no jitter */
  TEST_ASSERT_EQUAL_INT64(1000 + 60 * DAY, edc_sched_plan(&g_s, 1000, 1000 + 90 * DAY, 0));
  TEST_ASSERT_EQUAL_INT(EDC_ACTION_WAIT,
                        edc_sched_decide(&g_s, 1000 + 60 * DAY - 1, 1, 1000 + 90 * DAY));
  TEST_ASSERT_EQUAL_INT(EDC_ACTION_REENROLL,
                        edc_sched_decide(&g_s, 1000 + 60 * DAY, 1, 1000 + 90 * DAY));
}

static void test_jitter_stays_within_five_percent_earlier(void) {
  uint32_t rnd;
  int64_t nb = 0, na = 90 * DAY, at2 = 60 * DAY, jitter = 90 * DAY / 20; /* 5% of lifetime */
  int64_t lo = at2, hi = 0;
  setup_default();
  for (rnd = 0; rnd < 2000000u; rnd += 997u) {
    int64_t t = edc_sched_plan(&g_s, nb, na, rnd * 2654435761u);
    TEST_ASSERT_TRUE(t >= at2 - jitter && t <= at2);
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  /* the spread is real, not a constant */
  TEST_ASSERT_TRUE(hi - lo > jitter / 2);
  TEST_ASSERT_EQUAL_INT64(at2 - jitter, edc_sched_plan(&g_s, nb, na, (uint32_t)jitter));
}

static void test_custom_fraction_and_no_jitter(void) {
  edc_sched_config_t cfg;
  edc_sched_config_default(&cfg);
  cfg.renew_num = 1;
  cfg.renew_den = 2;
  cfg.jitter_permille = 0;
  TEST_ASSERT_EQUAL_INT(0, edc_sched_init(&g_s, &cfg));
  TEST_ASSERT_EQUAL_INT64(500, edc_sched_plan(&g_s, 0, 1000, 0xffffffffu));
  cfg.renew_num = 3; /* 3/2 of the lifetime makes no sense */
  TEST_ASSERT_EQUAL_INT(EDC_ERR_INVALID_ARG, edc_sched_init(&g_s, &cfg));
}

static void test_backoff_doubles_within_bounds_up_to_cap(void) {
  int64_t now = 5000, d = 60;
  int i;
  setup_default();
  for (i = 1; i <= 20; i++) {
    int64_t lo_next = edc_sched_failed(&g_s, now, 0, 0, 0); /* rnd 0: lower bound d/2 */
    TEST_ASSERT_EQUAL_INT64(now + d / 2, lo_next);
    d = d * 2 > 6 * 3600 ? 6 * 3600 : d * 2;
  }
  /* after many failures the wait never exceeds the cap */
  for (i = 0; i < 100; i++) {
    int64_t next = edc_sched_failed(&g_s, now, 0, 0, (uint32_t)i * 7919u);
    TEST_ASSERT_TRUE(next - now >= 3 * 3600 && next - now <= 6 * 3600);
  }
}

static void test_backoff_upper_bound_is_reached(void) {
  setup_default();
  /* first failure: d = 60, wait in [30, 60]; rnd 30 gives 30 + 30 % 31 = 60 */
  TEST_ASSERT_EQUAL_INT64(100 + 60, edc_sched_failed(&g_s, 100, 0, 0, 30));
  /* second: d = 120, wait 60 + rnd % 61 */
  TEST_ASSERT_EQUAL_INT64(100 + 60 + 5, edc_sched_failed(&g_s, 100, 0, 0, 5));
  TEST_ASSERT_EQUAL_UINT32(2, g_s.failures);
}

static void test_honours_retry_after_exactly_and_clamps_it(void) {
  setup_default();
  TEST_ASSERT_EQUAL_INT64(1000 + 300, edc_sched_failed(&g_s, 1000, 1, 300, 12345));
  TEST_ASSERT_EQUAL_INT(EDC_ACTION_WAIT, edc_sched_decide(&g_s, 1299, 1, 1000000));
  TEST_ASSERT_EQUAL_INT(EDC_ACTION_REENROLL, edc_sched_decide(&g_s, 1300, 1, 1000000));
  TEST_ASSERT_EQUAL_INT64(1000 + DAY, edc_sched_failed(&g_s, 1000, 1, 10 * 86400, 0));
}

static void test_falls_back_to_bootstrap_when_operational_expired(void) {
  setup_default();
  edc_sched_plan(&g_s, 0, 90 * DAY, 0);
  TEST_ASSERT_EQUAL_INT(EDC_ACTION_REENROLL, edc_sched_decide(&g_s, 90 * DAY - 1, 1, 90 * DAY));
  TEST_ASSERT_EQUAL_INT(EDC_ACTION_ENROLL_BOOTSTRAP, edc_sched_decide(&g_s, 90 * DAY, 1, 90 * DAY));
  TEST_ASSERT_EQUAL_INT(EDC_ACTION_ENROLL_BOOTSTRAP, edc_sched_decide(&g_s, 91 * DAY, 1, 90 * DAY));
}

static void test_first_step_enrolls_with_bootstrap_immediately(void) {
  setup_default();
  TEST_ASSERT_EQUAL_INT(EDC_ACTION_ENROLL_BOOTSTRAP, edc_sched_decide(&g_s, 0, 0, 0));
}

static void test_successful_plan_resets_backoff(void) {
  setup_default();
  edc_sched_failed(&g_s, 0, 0, 0, 0);
  edc_sched_failed(&g_s, 0, 0, 0, 0);
  TEST_ASSERT_EQUAL_UINT32(2, g_s.failures);
  edc_sched_plan(&g_s, 0, 3000, 0);
  TEST_ASSERT_EQUAL_UINT32(0, g_s.failures);
  TEST_ASSERT_EQUAL_INT64(30, edc_sched_failed(&g_s, 0, 0, 0, 0)); /* back to d = 60: wait 30 */
}

void ucx_group_sched(void) {
  UCX_GROUP("Scheduler");
  RUN_TEST(test_renews_at_two_thirds_without_jitter);
  RUN_TEST(test_jitter_stays_within_five_percent_earlier);
  RUN_TEST(test_custom_fraction_and_no_jitter);
  RUN_TEST(test_backoff_doubles_within_bounds_up_to_cap);
  RUN_TEST(test_backoff_upper_bound_is_reached);
  RUN_TEST(test_honours_retry_after_exactly_and_clamps_it);
  RUN_TEST(test_falls_back_to_bootstrap_when_operational_expired);
  RUN_TEST(test_first_step_enrolls_with_bootstrap_immediately);
  RUN_TEST(test_successful_plan_resets_backoff);
}

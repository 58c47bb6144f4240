/* hw-tests: EST-coaps on emulated Cortex-M: the host's test_coaps.c (the client over DTLS 1.2
 * against an in-memory Mbed TLS DTLS server with an EST-coaps handler: Block1/Block2,
 * pkix-cert, 5.03 + Max-Age, retransmission, separate response) run by the Unity-style runner. */
#include <stdio.h>

#include "platform.h"
#include "ucx_runner.h"
#include "unity_compat.h"

void ucx_group_coaps(void);

static size_t g_max_stack, g_max_heap;

void ucx_before_test(void) {
  hw_stack_paint();
  hw_heap_reset_peak();
}

void ucx_after_test(const char *group, const char *name) {
  size_t s = hw_stack_peak(), h = hw_heap_peak();
  if (s > g_max_stack) g_max_stack = s;
  if (h > g_max_heap) g_max_heap = h;
  printf("  [mem] %s.%s stack=%u heap=%u (client and server together)\n", group, name, (unsigned)s,
         (unsigned)h);
}

int main(void) {
  int failures;
  hw_init();
  printf("edc EST-coaps tests on %s (QEMU %s)\n", EDC_HW_CPU, EDC_HW_MACHINE);
  ucx_group_coaps();
  printf("max over tests: stack=%u heap=%u (leaked now: %u)\n", (unsigned)g_max_stack,
         (unsigned)g_max_heap, (unsigned)hw_heap_current());
  failures = ucx_finish();
  return failures == 0 ? 0 : 1;
}

/* Startup, semihosting and measurement for QEMU mps2-an385/an386. */
#include "platform.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "edc/edc_error.h"
#include "mbedtls/platform.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, __stack_top, __stack_bottom;
extern uint32_t __heap_start, __heap_limit;
int main(void);

/* ---- semihosting ---- */
static int semihost(int op, const void *arg) {
  register int r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void hw_exit(int code) {
  uint32_t block[2] = {0x20026u /* ADP_Stopped_ApplicationExit */, (uint32_t)code};
  semihost(0x20 /* SYS_EXIT_EXTENDED */, block);
  semihost(0x18 /* SYS_EXIT */, (const void *)(uintptr_t)(code == 0 ? 0x20026u : 0x20023u));
  for (;;) {
  }
}

/* newlib syscalls (nosys.specs stubs are replaced by these) */
int _write(int fd, const char *buf, int len) {
  char chunk[65];
  int done = 0;
  (void)fd;
  while (done < len) {
    int n = len - done > 64 ? 64 : len - done;
    memcpy(chunk, buf + done, (size_t)n);
    chunk[n] = '\0';
    semihost(0x04 /* SYS_WRITE0 */, chunk);
    done += n;
  }
  return len;
}

static char *g_brk;
static char *g_brk_max;
void *_sbrk(ptrdiff_t incr) {
  char *prev;
  if (g_brk == NULL) g_brk = g_brk_max = (char *)&__heap_start;
  if (g_brk + incr > (char *)&__heap_limit) {
    errno = ENOMEM;
    return (void *)-1;
  }
  prev = g_brk;
  g_brk += incr;
  if (g_brk > g_brk_max) g_brk_max = g_brk;
  return prev;
}
void _exit(int code) { hw_exit(code); }
int _close(int fd) {
  (void)fd;
  return -1;
}
int _fstat(int fd, struct stat *st) {
  (void)fd;
  st->st_mode = S_IFCHR;
  return 0;
}
int _isatty(int fd) {
  (void)fd;
  return 1;
}
int _lseek(int fd, int off, int whence) {
  (void)fd;
  (void)off;
  (void)whence;
  return 0;
}
int _read(int fd, char *buf, int len) {
  (void)fd;
  (void)buf;
  (void)len;
  return 0;
}
int _getpid(void) { return 1; }
int _kill(int pid, int sig) {
  (void)pid;
  (void)sig;
  return -1;
}

size_t hw_sbrk_used(void) { return g_brk_max ? (size_t)(g_brk_max - (char *)&__heap_start) : 0; }

/* ---- SysTick: 24-bit down counter on the CPU clock ---- */
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
static volatile uint32_t g_wraps;
void SysTick_Handler(void) { g_wraps++; }

uint64_t hw_ticks(void) {
  uint32_t w1, v, w2;
  do {
    w1 = g_wraps;
    v = SYST_CVR;
    w2 = g_wraps;
  } while (w1 != w2);
  return (uint64_t)w1 * 0x1000000u + (0xFFFFFFu - v);
}

/* ---- counting allocator for Mbed TLS ---- */
static size_t g_heap_cur, g_heap_peak;
static void *count_calloc(size_t n, size_t size) {
  size_t total;
  size_t *p;
  if (size != 0 && n > (size_t)-1 / size) return NULL;
  total = n * size;
  p = (size_t *)calloc(1, total + 8);
  if (p == NULL) return NULL;
  p[0] = total;
  g_heap_cur += total;
  if (g_heap_cur > g_heap_peak) g_heap_peak = g_heap_cur;
  return (char *)p + 8;
}
static void count_free(void *ptr) {
  size_t *p;
  if (ptr == NULL) return;
  p = (size_t *)((char *)ptr - 8);
  g_heap_cur -= p[0];
  free(p);
}
void hw_heap_reset_peak(void) { g_heap_peak = g_heap_cur; }
size_t hw_heap_peak(void) { return g_heap_peak; }
size_t hw_heap_current(void) { return g_heap_cur; }

/* ---- stack painting ---- */
#define PAINT 0xA5C3A5C3u
void hw_stack_paint(void) {
  uint32_t *p = &__stack_bottom;
  uint32_t *sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  while (p < sp - 16) *p++ = PAINT;
}
size_t hw_stack_peak(void) {
  const uint32_t *p = &__stack_bottom;
  while (p < &__stack_top && *p == PAINT) p++;
  return (size_t)((const char *)&__stack_top - (const char *)p);
}

int hw_entropy(void *ctx, unsigned char *buf, size_t len) {
  /* Test-grade only: QEMU's mps2 has no TRNG. A product port reads its TRNG here. */
  static uint32_t x = 0x12345678u;
  (void)ctx;
  while (len--) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *buf++ = (unsigned char)(x ^ (uint32_t)hw_ticks());
  }
  return 0;
}

void hw_init(void) {
  mbedtls_platform_set_calloc_free(count_calloc, count_free);
  SYST_RVR = 0xFFFFFFu;
  SYST_CVR = 0;
  SYST_CSR = 7u; /* enable, interrupt, CPU clock */
}

/* ---- vectors and reset ---- */
void Reset_Handler(void) {
  uint32_t *src = &_sidata, *dst = &_sdata;
  while (dst < &_edata) *dst++ = *src++;
  for (dst = &_sbss; dst < &_ebss; dst++) *dst = 0;
  hw_exit(main());
}

static void fault_handler(void) {
  static const char msg[] = "FAULT: CPU exception\n";
  semihost(0x04, msg);
  hw_exit(99);
}

/* Entry 0 is the initial stack pointer: the vector table is a table of words. */
__attribute__((section(".isr_vector"), used)) static const uintptr_t g_vectors[16] = {
    (uintptr_t)&__stack_top,
    (uintptr_t)Reset_Handler,
    (uintptr_t)fault_handler,
    (uintptr_t)fault_handler,
    (uintptr_t)fault_handler,
    (uintptr_t)fault_handler,
    (uintptr_t)fault_handler,
    0,
    0,
    0,
    0,
    (uintptr_t)fault_handler,
    (uintptr_t)fault_handler,
    0,
    (uintptr_t)fault_handler,
    (uintptr_t)SysTick_Handler};

unsigned char hw_slot[EDC_SLOT_COUNT][2048];
size_t hw_slot_len[EDC_SLOT_COUNT];

int hw_store_read(void *ctx, edc_slot_t s, unsigned char *buf, size_t size, size_t *olen) {
  (void)ctx;
  if (hw_slot_len[s] == 0) return EDC_ERR_NOT_FOUND;
  *olen = hw_slot_len[s];
  if (size < hw_slot_len[s]) return EDC_ERR_BUFFER_TOO_SMALL;
  memcpy(buf, hw_slot[s], hw_slot_len[s]);
  return 0;
}

int hw_store_commit(void *ctx, edc_slot_t s, const unsigned char *buf, size_t len) {
  (void)ctx;
  if (len > sizeof(hw_slot[s])) return EDC_ERR_STORAGE;
  memcpy(hw_slot[s], buf, len);
  hw_slot_len[s] = len;
  return 0;
}

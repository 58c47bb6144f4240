/** @file platform.h Bare-metal support for the hw-tests: semihosting, and measurement of
 *  stack, heap and instruction counts on QEMU's mps2 boards. */
#ifndef EDC_HW_PLATFORM_H
#define EDC_HW_PLATFORM_H
#include <stddef.h>
#include <stdint.h>

#include "edc/edc_port.h"

/** Leave QEMU with this exit code (semihosting SYS_EXIT_EXTENDED). */
void hw_exit(int code) __attribute__((noreturn));
/** Install the counting allocator for Mbed TLS and start SysTick. */
void hw_init(void);
/** Paint the unused stack below the caller with a pattern. */
void hw_stack_paint(void);
/** Deepest stack use since the last paint, in bytes (from the top of the stack). */
size_t hw_stack_peak(void);
/** Forget the heap peak (current use stays). */
void hw_heap_reset_peak(void);
/** Peak of bytes allocated through Mbed TLS's calloc since the last reset (payload only). */
size_t hw_heap_peak(void);
/** Bytes allocated right now. */
size_t hw_heap_current(void);
/** Highest address handed out by _sbrk minus the heap start (newlib arena incl. overhead). */
size_t hw_sbrk_used(void);
/** SysTick ticks of the 25 MHz CPU clock since hw_init (virtual time under -icount). */
uint64_t hw_ticks(void);
/** Fill a buffer with (test-grade) entropy. */
int hw_entropy(void *ctx, unsigned char *buf, size_t len);

/** The slots of the RAM slot store below (2 KiB each); hw_slot_len[s] == 0: slot s is empty. */
extern unsigned char hw_slot[EDC_SLOT_COUNT][2048];
extern size_t hw_slot_len[EDC_SLOT_COUNT];
/** edc_port_t read_slot over hw_slot (linked only into the images that use it). */
int hw_store_read(void *ctx, edc_slot_t s, unsigned char *buf, size_t size, size_t *olen);
/** edc_port_t commit_slot over hw_slot. */
int hw_store_commit(void *ctx, edc_slot_t s, const unsigned char *buf, size_t len);
#endif

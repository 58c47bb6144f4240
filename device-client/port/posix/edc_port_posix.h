/**
 * @file edc_port_posix.h
 * The POSIX (Linux) port: BSD sockets with poll() timeouts, clock_gettime(), getrandom(), and
 * a state directory whose files are replaced atomically (temp file, fsync, rename, fsync of
 * the directory).
 */
#ifndef EDC_PORT_POSIX_H
#define EDC_PORT_POSIX_H

#include <stddef.h>

#include "edc/edc_port.h"

#ifdef __cplusplus
extern "C" {
#endif

/** POSIX port state. */
typedef struct edc_posix {
  edc_port_t port;       /**< the table to hand to the library */
  char dir[512];         /**< state directory */
  int64_t time_offset_s; /**< added to the wall clock (tests and demos of renewal) */
  /** Test hook: called at "write", "fsync", "rename"; a non-zero return fails that stage. */
  int (*fault)(void *arg, const char *stage);
  void *fault_arg;
} edc_posix_t;

/** Fill @p p for state directory @p dir (created with mode 0700 if missing). */
int edc_posix_init(edc_posix_t *p, const char *dir);
/** Zeroize (NULL-safe). */
void edc_posix_free(edc_posix_t *p);
/** File name of a storage slot inside the state directory. */
const char *edc_posix_slot_name(edc_slot_t slot);
/** Replace dir/name atomically with buf (mode 0600 when @p secret, else 0644). */
int edc_posix_write_atomic(edc_posix_t *p, const char *name, const unsigned char *buf, size_t len,
                           int secret);
/** Read a whole file into a malloc()ed, NUL-terminated buffer; *len excludes the NUL. */
int edc_posix_read_file(const char *path, unsigned char **buf, size_t *len);

#ifdef __cplusplus
}
#endif
#endif /* EDC_PORT_POSIX_H */

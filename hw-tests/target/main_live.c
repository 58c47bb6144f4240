/* hw-tests: a complete enrollment from the emulated Cortex-M to a real enrolld on the host.
 * The device runs the real client (key generation, CSR, TLS 1.2 handshakes, /cacerts with
 * the pinned fingerprint, /simpleenroll with the bootstrap certificate, then
 * /simplereenroll with the operational one). Its network port relays bytes through the
 * emulated UART (CMSDK APB UART0, QEMU's first -serial) to hw-tests/live/uart_relay.py,
 * which holds the TCP connection to enrolld. Inputs and outputs are files reached through
 * semihosting (QEMU's working directory):
 *   live-config.txt   "<enrolld port> <unix time now>"
 *   root.sha256 (32 bytes), and per device (prefix sw, se) <p>-boot.der, <p>-boot.key.der
 *   <p>-issued.der, <p>-reissued.der, <p>-cacerts.der, se-device.pub   written for the test
 * Device "sw" keeps its keys in the client; device "se" has its bootstrap key and its device
 * key in secure-element doubles (EDC_WITH_EXTERNAL_KEY: CSR and TLS CertificateVerify through
 * the sign callback).
 *
 * Relay frames on the UART (the device asks, the relay answers):
 *   'C' port:2           -> 'c' status:1 (0 connected)
 *   'S' len:2 data        (no answer)
 *   'R' max:2 timeout:4  -> 'r' len:2 data   (len 0: EOF, 0xFFFF: timeout, 0xFFFE: error)
 *   'X'                   (close, no answer)
 * All integers big-endian. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edc/edc_client.h"
#include "edc/edc_https.h"
#include "platform.h"
#include "se_double.h"

/* ---- semihosting files ---- */
static int sh_call(int op, void *arg) {
  register int r0 __asm__("r0") = op;
  register void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}
/* Read a whole file into buf; returns its length or -1. */
static long sh_read_file(const char *name, unsigned char *buf, size_t size) {
  uintptr_t a[3];
  long len, left;
  int h;
  a[0] = (uintptr_t)name;
  a[1] = 1; /* "rb" */
  a[2] = strlen(name);
  if ((h = sh_call(0x01 /* SYS_OPEN */, a)) < 0) return -1;
  a[0] = (uintptr_t)h;
  len = sh_call(0x0C /* SYS_FLEN */, a);
  if (len >= 0 && (size_t)len <= size) {
    a[1] = (uintptr_t)buf;
    a[2] = (uintptr_t)len;
    left = sh_call(0x06 /* SYS_READ */, a);
    if (left != 0) len = -1;
  } else {
    len = -1;
  }
  a[0] = (uintptr_t)h;
  sh_call(0x02 /* SYS_CLOSE */, a);
  return len;
}
static int sh_write_file(const char *name, const unsigned char *buf, size_t len) {
  uintptr_t a[3];
  int h, left;
  a[0] = (uintptr_t)name;
  a[1] = 5; /* "wb" */
  a[2] = strlen(name);
  if ((h = sh_call(0x01, a)) < 0) return -1;
  a[0] = (uintptr_t)h;
  a[1] = (uintptr_t)buf;
  a[2] = len;
  left = sh_call(0x05 /* SYS_WRITE */, a);
  a[0] = (uintptr_t)h;
  sh_call(0x02, a);
  return left == 0 ? 0 : -1;
}

/* ---- CMSDK APB UART0 of mps2-an385/an386 ---- */
#define UART_DATA (*(volatile uint32_t *)0x40004000u)
#define UART_STATE (*(volatile uint32_t *)0x40004004u)
#define UART_CTRL (*(volatile uint32_t *)0x40004008u)
#define UART_BAUDDIV (*(volatile uint32_t *)0x40004010u)
#define STATE_TXFULL 1u
#define STATE_RXFULL 2u

static uint64_t ms_now(void) { return hw_ticks() / 25000u; }

static void uart_put(const unsigned char *b, size_t n) {
  while (n--) {
    while (UART_STATE & STATE_TXFULL) {
    }
    UART_DATA = *b++;
  }
}
/* Read n bytes; 0, or -1 when the relay stays silent past the deadline. */
static int uart_get(unsigned char *b, size_t n, uint64_t deadline) {
  while (n--) {
    while (!(UART_STATE & STATE_RXFULL))
      if (ms_now() > deadline) return -1;
    *b++ = (unsigned char)UART_DATA;
  }
  return 0;
}

/* ---- the port: network through the relay ---- */
struct edc_conn {
  int open;
};
static struct edc_conn g_conn;
static int64_t g_time0, g_time_offset;
static uint64_t g_ms0;

static int64_t wall(void *ctx) {
  (void)ctx;
  return g_time0 + (int64_t)((ms_now() - g_ms0) / 1000u) + g_time_offset;
}
static uint64_t mono(void *ctx) {
  (void)ctx;
  return ms_now();
}
static int net_connect(void *ctx, const char *host, uint16_t port, int udp, uint32_t t,
                       edc_conn_t **conn) {
  unsigned char f[3] = {'C', (unsigned char)(port >> 8), (unsigned char)port}, r[2];
  (void)ctx;
  (void)host; /* the relay reaches enrolld on the host's loopback */
  if (udp) return EDC_ERR_UNSUPPORTED;
  uart_put(f, sizeof(f));
  if (uart_get(r, 2, ms_now() + t + 5000) != 0 || r[0] != 'c' || r[1] != 0) return EDC_ERR_NET;
  g_conn.open = 1;
  *conn = &g_conn;
  return 0;
}
static int net_send(edc_conn_t *c, const unsigned char *b, size_t n) {
  unsigned char f[3];
  if (!c->open) return EDC_ERR_NET;
  if (n > 1024) n = 1024;
  f[0] = 'S';
  f[1] = (unsigned char)(n >> 8);
  f[2] = (unsigned char)n;
  uart_put(f, 3);
  uart_put(b, n);
  return (int)n;
}
static int net_recv(edc_conn_t *c, unsigned char *b, size_t n, uint32_t t) {
  unsigned char f[7], r[3];
  size_t len;
  if (!c->open) return EDC_ERR_NET;
  if (n > 4096) n = 4096;
  f[0] = 'R';
  f[1] = (unsigned char)(n >> 8);
  f[2] = (unsigned char)n;
  f[3] = (unsigned char)(t >> 24);
  f[4] = (unsigned char)(t >> 16);
  f[5] = (unsigned char)(t >> 8);
  f[6] = (unsigned char)t;
  uart_put(f, sizeof(f));
  if (uart_get(r, 3, ms_now() + t + 5000) != 0 || r[0] != 'r') return EDC_ERR_NET;
  len = (size_t)r[1] << 8 | r[2];
  if (len == 0xFFFF) return EDC_ERR_TIMEOUT;
  if (len == 0xFFFE || len > n) return EDC_ERR_NET;
  if (uart_get(b, len, ms_now() + 5000) != 0) return EDC_ERR_NET;
  return (int)len; /* 0: the server closed the connection */
}
static void net_close(edc_conn_t *c) {
  unsigned char f = 'X';
  if (c->open) uart_put(&f, 1);
  c->open = 0;
}

static const edc_port_t kPort = {NULL, net_connect, net_send,   net_recv,      net_close,      mono,
                                 wall, NULL,        hw_entropy, hw_store_read, hw_store_commit};

static int g_fail;
static void expect(int cond, const char *what) {
  printf("%s: %s\n", cond ? "ok" : "FAIL", what);
  if (!cond) g_fail = 1;
}

/* Peaks over the steps of the current device (for its "[live] ram" line). */
static unsigned g_heap_max, g_stack_max;

/* One scheduler step, measured: wall time on SysTick (QEMU's virtual clock, real time
 * without -icount), stack and heap peaks. */
static int step(edc_client_t *c, const char *what, int64_t *next) {
  uint64_t t0;
  int ret;
  hw_stack_paint();
  hw_heap_reset_peak();
  t0 = ms_now();
  ret = edc_client_step(c, next);
  printf("[live] %-28s ret=%d (%s) ms=%lu stack=%u heap_peak=%u\n", what, ret, edc_strerror(ret),
         (unsigned long)(ms_now() - t0), (unsigned)hw_stack_peak(), (unsigned)hw_heap_peak());
  if (hw_stack_peak() > g_stack_max) g_stack_max = (unsigned)hw_stack_peak();
  if (hw_heap_peak() > g_heap_max) g_heap_max = (unsigned)hw_heap_peak();
  return ret;
}

/* One device through both rounds: enroll (with /cacerts), then re-enroll at its renewal time.
 * With @p se, its bootstrap key and its device key live in secure-element doubles: the
 * bootstrap element signs the TLS CertificateVerify of /simpleenroll, the device element the
 * CSRs and the CertificateVerify of /simplereenroll; nothing private is stored. Output files
 * are named with @p prefix. */
static void run_device(const char *prefix, const char *cn, int se, uint16_t port) {
  static edc_client_t c;
  static edc_https_t https;
  static unsigned char work[2048], io[2048], crt[1024], key[256];
  static se_double_t boot_se, dev_se;
  static edc_key_t boot_key, dev_key;
  unsigned char dev_pub[EDC_P256_PUBLIC_LEN];
  char name[48];
  edc_client_config_t cfg;
  edc_csr_subject_t subj = {NULL, NULL, cn, cn, NULL, 0};
  const mbedtls_x509_crt *op, *n;
  long crt_len, key_len;
  int64_t next = 0, na1 = 0, renew_at;
  unsigned char serial1[32];
  size_t serial1_len = 0, ca_len = 0;
  int ret;

  printf("== %s: %s, keys %s\n", prefix, cn, se ? "in secure-element doubles" : "in the client");
  snprintf(name, sizeof(name), "%s-boot.der", prefix);
  crt_len = sh_read_file(name, crt, sizeof(crt));
  snprintf(name, sizeof(name), "%s-boot.key.der", prefix);
  key_len = sh_read_file(name, key, sizeof(key));
  edc_client_config_default(&cfg);
  expect(crt_len > 0 && key_len > 0 && sh_read_file("root.sha256", cfg.ca_fingerprint, 32) == 32,
         "inputs read through semihosting");
  if (crt_len <= 0 || key_len <= 0) return;
  cfg.subject = subj;
  cfg.have_fingerprint = 1;
  g_time_offset = 0;
  g_heap_max = g_stack_max = 0;
  ret = edc_client_init(&c, &kPort, &cfg, work, sizeof(work), prefix);
  if (ret == 0 && se) {
    ret = se_double_init(&boot_se, key, (size_t)key_len, hw_entropy, NULL, &boot_key, dev_pub);
    if (ret == 0) ret = edc_client_set_bootstrap_key(&c, crt, (size_t)crt_len, &boot_key);
    if (ret == 0) ret = se_double_init(&dev_se, NULL, 0, hw_entropy, NULL, &dev_key, dev_pub);
    if (ret == 0) edc_client_set_device_key(&c, &dev_key);
  } else if (ret == 0) {
    ret = edc_client_set_bootstrap(&c, crt, (size_t)crt_len, key, (size_t)key_len);
  }
  if (ret == 0)
    ret = edc_https_init(&https, &kPort, edc_client_drbg(&c), "127.0.0.1", port, NULL, 20000, io,
                         sizeof(io));
  expect(ret == 0, "client, bootstrap credentials and HTTPS transport set up");
  if (ret != 0) goto out;
  edc_client_set_transport(&c, edc_https_transport(&https));

  /* 1. /cacerts (pinned) and /simpleenroll with the bootstrap certificate; the CSR asks for
   *    CN and serialNumber, the demo profile issues CN only */
  ret = step(&c, "cacerts + simpleenroll", &next);
  op = edc_client_operational(&c, NULL, &na1);
  expect(ret == 0 && op != NULL, "enrolled with enrolld");
  if (op == NULL) goto out;
  snprintf(name, sizeof(name), "%s-issued.der", prefix);
  expect(sh_write_file(name, op->raw.p, op->raw.len) == 0, "issued certificate written");
  serial1_len = op->serial.len < sizeof(serial1) ? op->serial.len : sizeof(serial1);
  memcpy(serial1, op->serial.p, serial1_len);
  for (n = edc_client_trust(&c); n != NULL && n->raw.p != NULL; n = n->next) {
    if (ca_len + n->raw.len > sizeof(work)) break;
    memcpy(work + ca_len, n->raw.p, n->raw.len); /* work is free between steps */
    ca_len += n->raw.len;
  }
  snprintf(name, sizeof(name), "%s-cacerts.der", prefix);
  expect(ca_len > 0 && sh_write_file(name, work, ca_len) == 0, "CA set written");

  /* 2. nothing to do before the renewal time; at it, /simplereenroll with the operational
   *    certificate (and its subject, RFC 7030 4.2.2) */
  renew_at = edc_client_renew_at(&c);
  expect(renew_at > wall(NULL) && renew_at < na1, "renewal planned within the lifetime");
  g_time_offset = renew_at - wall(NULL) + 1;
  ret = step(&c, "simplereenroll (at renewal)", &next);
  op = edc_client_operational(&c, NULL, NULL);
  expect(ret == 0 && op != NULL &&
             (op->serial.len != serial1_len || memcmp(op->serial.p, serial1, serial1_len) != 0),
         "re-enrolled: a new certificate");
  snprintf(name, sizeof(name), "%s-reissued.der", prefix);
  if (ret == 0 && op != NULL)
    expect(sh_write_file(name, op->raw.p, op->raw.len) == 0, "renewed certificate written");
  if (se) {
    /* the stored bundle holds no private key; the element signed the TLS handshakes */
    expect(hw_slot_len[EDC_SLOT_OPERATIONAL] > 6 && hw_slot[EDC_SLOT_OPERATIONAL][4] == 0,
           "no private key in storage");
    printf("secure-element signatures: bootstrap %u, device %u\n", boot_se.signs, dev_se.signs);
    expect(boot_se.signs == 1, "bootstrap element signed the enroll handshake");
    expect(dev_se.signs == 3, "device element signed two CSRs and the re-enroll handshake");
    snprintf(name, sizeof(name), "%s-device.pub", prefix);
    expect(sh_write_file(name, dev_pub, sizeof(dev_pub)) == 0, "device public key written");
  }
  /* the figures of the RAM target, summed and checked by live_enroll.sh with the static RAM
   * of Mbed TLS and newlib: the client's own buffers and structs, the heap peak (what the
   * client holds included) and the painted stack peak over both steps */
  printf("[live] ram %s: buffers %u heap_peak %u stack_peak %u\n", prefix,
         (unsigned)(sizeof(work) + sizeof(io) + sizeof(c) + sizeof(https)), g_heap_max,
         g_stack_max);
out:
  edc_https_free(&https);
  edc_client_free(&c);
  if (se) {
    se_double_free(&boot_se, &boot_key);
    se_double_free(&dev_se, &dev_key);
  }
  memset(hw_slot_len, 0, sizeof(hw_slot_len));
}

int main(void) {
  static char conf[64];
  long conf_len;
  unsigned long port = 0;

  hw_init();
  g_ms0 = ms_now();
  printf("edc live enrollment on %s (QEMU %s) through UART0\n", EDC_HW_CPU, EDC_HW_MACHINE);
  UART_BAUDDIV = 16;
  UART_CTRL = 3; /* TX and RX enabled */

  conf_len = sh_read_file("live-config.txt", (unsigned char *)conf, sizeof(conf) - 1);
  expect(conf_len > 0, "live-config.txt read through semihosting");
  if (conf_len > 0) {
    char *e;
    conf[conf_len] = '\0';
    port = strtoul(conf, &e, 10);
    g_time0 = (int64_t)strtoll(e, NULL, 10);
    run_device("sw", "DEMO-0001", 0, (uint16_t)port);
    run_device("se", "DEMO-0002", 1, (uint16_t)port);
  }
  printf("heap in use at exit: %u\n", (unsigned)hw_heap_current());
  expect(hw_heap_current() == 0, "no leak");
  printf("%s\n", g_fail ? "FAIL" : "PASS");
  return g_fail;
}

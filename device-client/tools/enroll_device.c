/* enroll-device: the device client as a Linux command, for factory test stations, field
 * gateways and our tests. Built only on the public API of the library and the POSIX port.
 *
 *   enroll-device enroll|renew|run|status|csr [options]     (enroll-device --help)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edc/edc_client.h"
#include "edc/edc_coaps.h"
#include "edc/edc_codec.h"
#include "edc/edc_https.h"
#include "edc_port_posix.h"
#include "mbedtls/oid.h"
#include "mbedtls/pem.h"

#define EXIT_USAGE 2
#define EXIT_RETRY 3

typedef struct opts {
  const char *cmd;
  const char *host;
  unsigned port;
  const char *label;
  const char *fingerprint;
  const char *ca_file;
  const char *boot_cert;
  const char *boot_key;
  const char *token;
  const char *token_user;
  const char *state;
  const char *cn;
  const char *serial;
  const char *org;
  const char *out;
  const char *challenge;
  int challenge_password;
  int coaps;
  unsigned coap_szx;
  long long time_offset;
  unsigned timeout_ms;
  long max_steps;
  int verbose;
} opts_t;

static void usage(FILE *f) {
  fputs(
      "usage: enroll-device COMMAND [options]\n"
      "commands:\n"
      "  enroll   get /cacerts if needed, then /simpleenroll with the bootstrap certificate or "
      "token\n"
      "  renew    /simplereenroll with the current operational certificate\n"
      "  run      renewal loop: renew at 2/3 of the lifetime, fall back to bootstrap when expired\n"
      "  status   show the stored credentials (exit 0 when a valid certificate is stored)\n"
      "  csr      write a DER PKCS#10 for a fresh key to --out (diagnostics)\n"
      "options:\n"
      "  --server HOST[:PORT]     EST server (default port 443, or 5684 with --coaps)\n"
      "  --coaps                  EST over CoAP/DTLS (RFC 9148) instead of HTTPS\n"
      "  --coap-block N           CoAP block size 16..1024 (default 512)\n"
      "  --label NAME             EST label: /.well-known/est/NAME/\n"
      "  --ca-fingerprint HEX     SHA-256 of a CA certificate that /cacerts must contain\n"
      "  --ca-file PEM            trust these CA certificates instead (explicit trust anchor)\n"
      "  --bootstrap-cert PEM --bootstrap-key PEM   manufacturer (IDevID) credentials\n"
      "  --token SECRET [--token-user NAME]          one-time token, sent as HTTP Basic\n"
      "  --cn NAME --serial SN --org O               CSR subject (default: from the bootstrap "
      "cert)\n"
      "  --challenge-password     bind the CSR to the TLS session (tls-unique, RFC 7030 3.5)\n"
      "  --state DIR              state directory (default ./edc-state)\n"
      "  --timeout-ms N           network timeout (default 30000)\n"
      "  --max-steps N            run: stop after N attempts (tests)\n"
      "  --time-offset SECONDS    pretend the wall clock is this far ahead (tests, demos)\n"
      "  --out FILE --challenge S csr: output file and challengePassword\n"
      "  -v                       verbose\n",
      f);
}

static int parse_opts(int argc, char **argv, opts_t *o) {
  int i;
  memset(o, 0, sizeof(*o));
  o->state = "./edc-state";
  o->port = 0; /* default below: 443, or 5684 for --coaps */
  o->coap_szx = 5;
  o->timeout_ms = 30000;
  if (argc < 2) return -1;
  o->cmd = argv[1];
  for (i = 2; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name, field)      \
  if (strcmp(a, name) == 0) { \
    if (!v) return -1;        \
    o->field = v;             \
    i++;                      \
    continue;                 \
  }
    OPT("--label", label)
    OPT("--ca-fingerprint", fingerprint)
    OPT("--ca-file", ca_file)
    OPT("--bootstrap-cert", boot_cert)
    OPT("--bootstrap-key", boot_key)
    OPT("--token", token)
    OPT("--token-user", token_user)
    OPT("--state", state)
    OPT("--cn", cn)
    OPT("--serial", serial)
    OPT("--org", org)
    OPT("--out", out)
    OPT("--challenge", challenge)
#undef OPT
    if (strcmp(a, "--server") == 0 && v) {
      static char host[256];
      const char *colon = strrchr(v, ':');
      if (colon && strchr(v, ']') == NULL && colon == strchr(v, ':')) {
        size_t n = (size_t)(colon - v);
        if (n >= sizeof(host)) return -1;
        memcpy(host, v, n);
        host[n] = '\0';
        o->port = (unsigned)strtoul(colon + 1, NULL, 10);
      } else {
        snprintf(host, sizeof(host), "%s", v);
      }
      o->host = host;
      i++;
    } else if (strcmp(a, "--timeout-ms") == 0 && v) {
      o->timeout_ms = (unsigned)strtoul(v, NULL, 10);
      i++;
    } else if (strcmp(a, "--max-steps") == 0 && v) {
      o->max_steps = strtol(v, NULL, 10);
      i++;
    } else if (strcmp(a, "--time-offset") == 0 && v) {
      o->time_offset = strtoll(v, NULL, 10);
      i++;
    } else if (strcmp(a, "--coap-block") == 0 && v) {
      unsigned long b = strtoul(v, NULL, 10), szx = 0;
      while (szx < 6 && (16ul << szx) < b) szx++;
      if ((16ul << szx) != b) return -1;
      o->coap_szx = (unsigned)szx;
      i++;
    } else if (strcmp(a, "--coaps") == 0) {
      o->coaps = 1;
    } else if (strcmp(a, "--challenge-password") == 0) {
      o->challenge_password = 1;
    } else if (strcmp(a, "-v") == 0) {
      o->verbose = 1;
    } else {
      fprintf(stderr, "enroll-device: unknown or incomplete option %s\n", a);
      return -1;
    }
  }
  if (o->port == 0) o->port = o->coaps ? 5684 : 443;
  return 0;
}

static int parse_fingerprint(const char *hex, unsigned char out[32]) {
  size_t n = 0;
  while (*hex && n < 64) {
    int c = *hex++, v;
    if (c == ':' || c == ' ') continue;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'f')
      v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v = c - 'A' + 10;
    else
      return -1;
    if (n % 2 == 0)
      out[n / 2] = (unsigned char)(v << 4);
    else
      out[n / 2] |= (unsigned char)v;
    n++;
  }
  return (n == 64 && *hex == '\0') ? 0 : -1;
}

/* Take CN and serialNumber from the bootstrap certificate's subject. */
static void subject_from_cert(const mbedtls_x509_crt *crt, opts_t *o) {
  static char cn[128], sn[128];
  const mbedtls_x509_name *n;
  for (n = &crt->subject; n != NULL; n = n->next) {
    char *dst = NULL;
    if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0 && o->cn == NULL)
      dst = cn;
    else if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_SERIAL_NUMBER, &n->oid) == 0 && o->serial == NULL)
      dst = sn;
    if (dst != NULL && n->val.len < 128) {
      memcpy(dst, n->val.p, n->val.len);
      dst[n->val.len] = '\0';
      if (dst == cn)
        o->cn = cn;
      else
        o->serial = sn;
    }
  }
}

static int write_pem_chain(edc_posix_t *posix, const char *name, const mbedtls_x509_crt *chain) {
  static unsigned char pem[16384];
  size_t off = 0;
  const mbedtls_x509_crt *c;
  for (c = chain; c != NULL && c->raw.p != NULL; c = c->next) {
    size_t olen = 0;
    if (mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n", "-----END CERTIFICATE-----\n",
                                 c->raw.p, c->raw.len, pem + off, sizeof(pem) - off, &olen) != 0)
      return EDC_ERR_BUFFER_TOO_SMALL;
    off += olen - 1; /* olen counts the NUL */
  }
  return edc_posix_write_atomic(posix, name, pem, off, 0);
}

static void print_status(const edc_client_t *c) {
  int64_t nb, na;
  const mbedtls_x509_crt *op = edc_client_operational(c, &nb, &na);
  char buf[256];
  if (op == NULL) {
    printf("operational: none\n");
    return;
  }
  mbedtls_x509_dn_gets(buf, sizeof(buf), &op->subject);
  printf("operational: %s\n", buf);
  mbedtls_x509_dn_gets(buf, sizeof(buf), &op->issuer);
  printf("issuer: %s\n", buf);
  mbedtls_x509_serial_gets(buf, sizeof(buf), &op->serial);
  printf("serial: %s\n", buf);
  printf("not_before: %lld\nnot_after: %lld\nrenew_at: %lld\n", (long long)nb, (long long)na,
         (long long)edc_client_renew_at(c));
}

/* Export human-readable copies (cert.pem = leaf + chain, ca.pem = trust). The authoritative
 * state is the atomically committed slot files. */
static void export_pem(edc_posix_t *posix, const edc_client_t *c) {
  const mbedtls_x509_crt *op = edc_client_operational(c, NULL, NULL);
  if (op != NULL) write_pem_chain(posix, "cert.pem", op);
  if (edc_client_has_trust(c)) write_pem_chain(posix, "ca.pem", edc_client_trust(c));
}

static int load_file(const char *path, unsigned char **buf, size_t *len) {
  int ret = edc_posix_read_file(path, buf, len);
  if (ret != 0)
    fprintf(stderr, "enroll-device: cannot read %s: %s\n", path, edc_strerror(ret));
  else
    *len += 1; /* Mbed TLS wants PEM with its NUL counted */
  return ret;
}

static int exit_code(int ret) {
  if (ret == 0) return 0;
  return ret == EDC_ERR_RETRY_LATER ? EXIT_RETRY : 1;
}

static int cmd_csr(const opts_t *o, edc_client_t *c) {
  edc_key_t key;
  edc_csr_subject_t subj;
  unsigned char csr[1024];
  size_t len = 0;
  int ret;
  FILE *f;
  memset(&subj, 0, sizeof(subj));
  subj.common_name = o->cn ? o->cn : "edc-test";
  subj.serial_number = o->serial;
  subj.organization = o->org;
  edc_key_init(&key);
  ret = edc_key_generate(&key, mbedtls_ctr_drbg_random, edc_client_drbg(c));
  if (ret == 0)
    ret = edc_csr_write_der(&key, &subj, o->challenge, csr, sizeof(csr), &len,
                            mbedtls_ctr_drbg_random, edc_client_drbg(c));
  edc_key_free(&key);
  if (ret != 0) {
    fprintf(stderr, "enroll-device: csr: %s\n", edc_strerror(ret));
    return 1;
  }
  f = fopen(o->out ? o->out : "csr.der", "wb");
  if (f == NULL || fwrite(csr, 1, len, f) != len) {
    if (f) fclose(f);
    fprintf(stderr, "enroll-device: cannot write CSR\n");
    return 1;
  }
  fclose(f);
  return 0;
}

int main(int argc, char **argv) {
  static unsigned char work[24 * 1024];
  static unsigned char io[24 * 1024];
  opts_t o;
  edc_posix_t posix;
  edc_client_config_t cfg;
  edc_client_t c;
  edc_https_t https;
  edc_coaps_t coaps;
  char basic[256];
  unsigned char *buf = NULL, *buf2 = NULL;
  size_t len = 0, len2 = 0;
  int ret, rc = 1, need_net;

  if (parse_opts(argc, argv, &o) != 0 || strcmp(o.cmd, "--help") == 0 || strcmp(o.cmd, "-h") == 0) {
    usage(argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) ? stdout
                                                                                      : stderr);
    return argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) ? 0
                                                                                       : EXIT_USAGE;
  }
  if (strcmp(o.cmd, "enroll") && strcmp(o.cmd, "renew") && strcmp(o.cmd, "run") &&
      strcmp(o.cmd, "status") && strcmp(o.cmd, "csr")) {
    usage(stderr);
    return EXIT_USAGE;
  }
  need_net = strcmp(o.cmd, "status") != 0 && strcmp(o.cmd, "csr") != 0;
  if (need_net && o.host == NULL) {
    fprintf(stderr, "enroll-device: --server is required\n");
    return EXIT_USAGE;
  }
  if ((ret = edc_posix_init(&posix, o.state)) != 0) {
    fprintf(stderr, "enroll-device: state directory %s: %s\n", o.state, edc_strerror(ret));
    return 1;
  }
  posix.time_offset_s = o.time_offset;

  edc_client_config_default(&cfg);
  cfg.challenge_password = o.challenge_password;
  if (o.fingerprint != NULL) {
    if (parse_fingerprint(o.fingerprint, cfg.ca_fingerprint) != 0) {
      fprintf(stderr, "enroll-device: --ca-fingerprint wants 64 hex digits (SHA-256)\n");
      return EXIT_USAGE;
    }
    cfg.have_fingerprint = 1;
  }
  if (o.token != NULL) {
    snprintf(basic, sizeof(basic), "%s:%s", o.token_user ? o.token_user : (o.cn ? o.cn : "device"),
             o.token);
    cfg.basic = basic;
  }
  if ((ret = edc_client_init(&c, &posix.port, &cfg, work, sizeof(work), "enroll-device")) != 0) {
    fprintf(stderr, "enroll-device: init: %s\n", edc_strerror(ret));
    return 1;
  }
  if (strcmp(o.cmd, "csr") == 0) {
    rc = cmd_csr(&o, &c);
    edc_client_free(&c);
    return rc;
  }
  ret = edc_client_load(&c);
  if (ret != 0 && ret != EDC_ERR_NOT_FOUND) {
    fprintf(stderr, "enroll-device: stored state: %s\n", edc_strerror(ret));
    goto done;
  }
  if (o.ca_file != NULL) {
    if (load_file(o.ca_file, &buf, &len) != 0) goto done;
    if ((ret = edc_client_set_trust(&c, buf, len)) != 0) {
      fprintf(stderr, "enroll-device: %s: %s\n", o.ca_file, edc_strerror(ret));
      goto done;
    }
  }
  if (o.boot_cert != NULL || o.boot_key != NULL) {
    if (o.boot_cert == NULL || o.boot_key == NULL) {
      fprintf(stderr, "enroll-device: --bootstrap-cert and --bootstrap-key go together\n");
      rc = EXIT_USAGE;
      goto done;
    }
    if (load_file(o.boot_cert, &buf2, &len2) != 0) goto done;
    free(buf);
    buf = NULL;
    if (load_file(o.boot_key, &buf, &len) != 0) goto done;
    if ((ret = edc_client_set_bootstrap(&c, buf2, len2, buf, len)) != 0) {
      fprintf(stderr, "enroll-device: bootstrap credentials: %s\n", edc_strerror(ret));
      goto done;
    }
    subject_from_cert(edc_client_bootstrap(&c), &o);
  }
  if (strcmp(o.cmd, "status") == 0) {
    int64_t na = 0;
    print_status(&c);
    rc = (edc_client_operational(&c, NULL, &na) != NULL && na > posix.port.wall_time_s(&posix)) ? 0
                                                                                                : 1;
    goto done;
  }
  if (o.cn == NULL && o.serial == NULL) {
    /* renewing without a bootstrap certificate: keep the current certificate's subject */
    const mbedtls_x509_crt *op = edc_client_operational(&c, NULL, NULL);
    if (op != NULL) subject_from_cert(op, &o);
  }
  {
    edc_csr_subject_t subj;
    memset(&subj, 0, sizeof(subj));
    subj.common_name = o.cn;
    subj.serial_number = o.serial;
    subj.organization = o.org;
    edc_client_set_subject(&c, &subj);
  }
  if (o.coaps) {
    ret = edc_coaps_init(&coaps, &posix.port, edc_client_drbg(&c), o.host, (uint16_t)o.port,
                         o.label, o.timeout_ms, o.coap_szx, io, sizeof(io));
    if (ret == 0) edc_client_set_transport(&c, edc_coaps_transport(&coaps));
  } else {
    ret = edc_https_init(&https, &posix.port, edc_client_drbg(&c), o.host, (uint16_t)o.port,
                         o.label, o.timeout_ms, io, sizeof(io));
    if (ret == 0) edc_client_set_transport(&c, edc_https_transport(&https));
  }
  if (ret != 0) {
    fprintf(stderr, "enroll-device: %s\n", edc_strerror(ret));
    goto done;
  }

  if (strcmp(o.cmd, "enroll") == 0 || strcmp(o.cmd, "renew") == 0) {
    ret = 0;
    /* /cacerts also with an explicit anchor (--ca-file): it brings the issuing CA that
     * completes enrolld's leaf-only answer (RFC 7030 4.1.3), checked against the anchor. */
    if (!edc_client_has_trust(&c) || o.fingerprint != NULL || o.ca_file != NULL) {
      ret = edc_client_cacerts(&c);
      if (ret != 0) fprintf(stderr, "enroll-device: cacerts: %s\n", edc_strerror(ret));
    }
    if (ret == 0) {
      ret = strcmp(o.cmd, "enroll") == 0 ? edc_client_enroll(&c) : edc_client_reenroll(&c);
      if (ret != 0) {
        fprintf(stderr, "enroll-device: %s: %s", o.cmd, edc_strerror(ret));
        if (ret == EDC_ERR_RETRY_LATER)
          fprintf(stderr, " (Retry-After %u s)", edc_client_retry_after(&c));
        fputc('\n', stderr);
      }
    }
    if (ret == 0) {
      export_pem(&posix, &c);
      print_status(&c);
    }
    rc = exit_code(ret);
  } else { /* run */
    long steps = 0;
    for (;;) {
      int64_t next = 0, now;
      ret = edc_client_step(&c, &next);
      now = posix.port.wall_time_s(&posix);
      if (ret == 0 && edc_client_operational(&c, NULL, NULL) != NULL) export_pem(&posix, &c);
      if (o.verbose || ret != 0)
        fprintf(stderr, "enroll-device: step: %s; next attempt in %lld s\n", edc_strerror(ret),
                (long long)(next - now));
      if (o.max_steps > 0 && ++steps >= o.max_steps) break;
      if (next > now) {
        int64_t wait = next - now;
        posix.port.sleep_ms(&posix, (uint32_t)(wait > 60 ? 60000 : wait * 1000));
      }
    }
    rc = exit_code(ret);
  }
  if (o.coaps)
    edc_coaps_free(&coaps);
  else
    edc_https_free(&https);
done:
  free(buf);
  free(buf2);
  edc_client_free(&c);
  edc_posix_free(&posix);
  return rc;
}

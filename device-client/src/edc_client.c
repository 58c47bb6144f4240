#include "edc/edc_client.h"

#include <string.h>

#include "edc/edc_codec.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/sha256.h"

#define BUNDLE_HDR 6 /* "EDC1" flags leaf */
/* c->have_trust: where c->trust came from */
#define TRUST_ANCHOR 1        /* edc_client_set_trust: an explicit trust anchor (RFC 7030 4.1.1) */
#define TRUST_CACERTS 2       /* /cacerts (or storage): the CA certificates of the EST server */
#define CSR_AREA EDC_CSR_AREA /* start of the work buffer holds the CSR */

void edc_client_config_default(edc_client_config_t *cfg) {
  if (cfg == NULL) return;
  memset(cfg, 0, sizeof(*cfg));
  edc_sched_config_default(&cfg->sched);
}

static int port_entropy(void *ctx, unsigned char *buf, size_t len) {
  const edc_port_t *port = (const edc_port_t *)ctx;
  return port->entropy(port->ctx, buf, len) == 0 ? 0 : MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
}

int edc_client_init(edc_client_t *c, const edc_port_t *port, const edc_client_config_t *cfg,
                    unsigned char *work, size_t work_size, const char *pers) {
  int ret;
  if (c == NULL || port == NULL || port->entropy == NULL || cfg == NULL || work == NULL ||
      work_size < CSR_AREA + 1024)
    return EDC_ERR_INVALID_ARG;
  memset(c, 0, sizeof(*c));
  c->port = port;
  c->cfg = *cfg;
  c->work = work;
  c->work_size = work_size;
  mbedtls_ctr_drbg_init(&c->drbg);
  mbedtls_x509_crt_init(&c->trust);
  mbedtls_x509_crt_init(&c->boot_crt);
  mbedtls_pk_init(&c->boot_key);
  mbedtls_x509_crt_init(&c->op_crt);
  mbedtls_pk_init(&c->op_pk);
  if ((ret = edc_sched_init(&c->sched, &cfg->sched)) != 0) return ret;
  if (mbedtls_ctr_drbg_seed(&c->drbg, port_entropy, (void *)port, (const unsigned char *)pers,
                            pers ? strlen(pers) : 0) != 0)
    return EDC_ERR_CRYPTO;
  return EDC_OK;
}

void edc_client_free(edc_client_t *c) {
  if (c == NULL) return;
  mbedtls_ctr_drbg_free(&c->drbg);
  mbedtls_x509_crt_free(&c->trust);
  mbedtls_x509_crt_free(&c->boot_crt);
  mbedtls_pk_free(&c->boot_key);
  mbedtls_x509_crt_free(&c->op_crt);
  mbedtls_pk_free(&c->op_pk);
  edc_sched_free(&c->sched);
  if (c->work != NULL) mbedtls_platform_zeroize(c->work, c->work_size);
  mbedtls_platform_zeroize(c, sizeof(*c));
}

mbedtls_ctr_drbg_context *edc_client_drbg(edc_client_t *c) { return c ? &c->drbg : NULL; }

void edc_client_set_transport(edc_client_t *c, edc_transport_t tr) {
  if (c != NULL) c->tr = tr;
}

static int crt_matches_key(const mbedtls_x509_crt *crt, const edc_key_t *key);

/* mbedtls_x509_crt_parse wants PEM NUL-terminated and counted with the NUL. */
static int parse_crt_any(mbedtls_x509_crt *chain, const unsigned char *buf, size_t len) {
  if (len > 0 && buf[len - 1] != '\0' && buf[0] != 0x30) {
    return EDC_ERR_MALFORMED; /* PEM must be passed with its terminating NUL */
  }
  return mbedtls_x509_crt_parse(chain, buf, len) == 0 ? 0 : EDC_ERR_MALFORMED;
}

int edc_client_set_trust(edc_client_t *c, const unsigned char *buf, size_t len) {
  if (c == NULL || buf == NULL) return EDC_ERR_INVALID_ARG;
  mbedtls_x509_crt_free(&c->trust);
  mbedtls_x509_crt_init(&c->trust);
  c->have_trust = 0;
  if (parse_crt_any(&c->trust, buf, len) != 0) return EDC_ERR_MALFORMED;
  c->have_trust = TRUST_ANCHOR;
  return EDC_OK;
}

/* Drop the bootstrap credentials and parse @p crt as the new certificate. */
static int reset_bootstrap(edc_client_t *c, const unsigned char *crt, size_t crt_len) {
  mbedtls_x509_crt_free(&c->boot_crt);
  mbedtls_x509_crt_init(&c->boot_crt);
  mbedtls_pk_free(&c->boot_key);
  mbedtls_pk_init(&c->boot_key);
  c->have_boot = 0;
  return parse_crt_any(&c->boot_crt, crt, crt_len);
}

int edc_client_set_bootstrap(edc_client_t *c, const unsigned char *crt, size_t crt_len,
                             const unsigned char *key, size_t key_len) {
  if (c == NULL || crt == NULL || key == NULL) return EDC_ERR_INVALID_ARG;
  if (reset_bootstrap(c, crt, crt_len) != 0 ||
      mbedtls_pk_parse_key(&c->boot_key, key, key_len, NULL, 0) != 0)
    return EDC_ERR_MALFORMED;
  c->have_boot = 1;
  return EDC_OK;
}

int edc_client_set_bootstrap_key(edc_client_t *c, const unsigned char *crt, size_t crt_len,
                                 const edc_key_t *key) {
  int ret;
  if (c == NULL || crt == NULL || key == NULL) return EDC_ERR_INVALID_ARG;
  if (reset_bootstrap(c, crt, crt_len) != 0) return EDC_ERR_MALFORMED;
  if (crt_matches_key(&c->boot_crt, key) != 0) return EDC_ERR_INVALID_ARG;
  if ((ret = edc_key_to_pk(key, &c->boot_key)) != 0) return ret;
  c->have_boot = 1;
  return EDC_OK;
}

void edc_client_set_device_key(edc_client_t *c, edc_key_t *key) {
  if (c != NULL) c->dev_key = key;
}

void edc_client_set_subject(edc_client_t *c, const edc_csr_subject_t *subject) {
  if (c != NULL && subject != NULL) c->cfg.subject = *subject;
}

int64_t edc_x509_time_to_epoch(const mbedtls_x509_time *t) {
  /* days from civil (H. Hinnant's algorithm) in 32 bits: X.509 years 0001-9999 fit, and
   * Cortex-M has no 64-bit divide instruction */
  int32_t y = t->year - (t->mon <= 2), era = y / 400, yoe = y - era * 400;
  int32_t doy = (153 * (t->mon + (t->mon > 2 ? -3 : 9)) + 2) / 5 + t->day - 1;
  int32_t days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
  return (int64_t)days * 86400 + t->hour * 3600 + t->min * 60 + t->sec;
}

/* ---- bundle ---- */

int edc_bundle_write(unsigned char *buf, size_t size, size_t *olen, const unsigned char *d,
                     unsigned leaf_index, const unsigned char *certs, size_t certs_len) {
  size_t need;
  if (olen == NULL || certs == NULL || certs_len == 0 || leaf_index > 255)
    return EDC_ERR_INVALID_ARG;
  need = BUNDLE_HDR + (d ? EDC_P256_PRIVATE_LEN : 0) + certs_len;
  if (buf == NULL || size < need) {
    *olen = need;
    return EDC_ERR_BUFFER_TOO_SMALL;
  }
  /* certs may already sit inside buf (in-place build): move them first. */
  memmove(buf + need - certs_len, certs, certs_len);
  memcpy(buf, "EDC1", 4);
  buf[4] = d ? 1 : 0;
  buf[5] = (unsigned char)leaf_index;
  if (d) memcpy(buf + BUNDLE_HDR, d, EDC_P256_PRIVATE_LEN);
  *olen = need;
  return EDC_OK;
}

int edc_bundle_parse(const unsigned char *buf, size_t len, const unsigned char **d,
                     unsigned *leaf_index, const unsigned char **certs, size_t *certs_len) {
  size_t off = BUNDLE_HDR;
  if (buf == NULL || d == NULL || leaf_index == NULL || certs == NULL || certs_len == NULL)
    return EDC_ERR_INVALID_ARG;
  if (len < BUNDLE_HDR || memcmp(buf, "EDC1", 4) != 0 || buf[4] > 1) return EDC_ERR_MALFORMED;
  *d = NULL;
  if (buf[4] & 1) {
    if (len < BUNDLE_HDR + EDC_P256_PRIVATE_LEN) return EDC_ERR_MALFORMED;
    *d = buf + BUNDLE_HDR;
    off += EDC_P256_PRIVATE_LEN;
  }
  if (len == off) return EDC_ERR_MALFORMED;
  *leaf_index = buf[5];
  *certs = buf + off;
  *certs_len = len - off;
  return EDC_OK;
}

/* Parse concatenated DER certificates, leaf first (the leaf_index one), into @p chain. */
static int parse_chain(mbedtls_x509_crt *chain, const unsigned char *certs, size_t len,
                       unsigned leaf_index) {
  edc_pkcs7_certs_t view;
  size_t iter = 0, clen;
  const unsigned char *cert;
  unsigned i, pass;
  view.p = certs;
  view.len = len;
  view.count = 0;
  for (pass = 0; pass < 2; pass++) {
    iter = 0;
    for (i = 0; edc_pkcs7_next_cert(&view, &iter, &cert, &clen) == 0; i++) {
      if ((pass == 0) != (i == leaf_index)) continue;
      if (mbedtls_x509_crt_parse_der(chain, cert, clen) != 0) return EDC_ERR_MALFORMED;
    }
    if (iter != len) return EDC_ERR_MALFORMED;
    if (pass == 0 && chain->raw.p == NULL) return EDC_ERR_MALFORMED; /* no such leaf */
  }
  return EDC_OK;
}

/* Operational credentials being built; moved into the client only when complete. */
typedef struct op_creds {
  mbedtls_x509_crt crt;
  mbedtls_pk_context pk; /* the TLS client key; empty when the bundle holds no usable key */
} op_creds_t;

static void creds_init(op_creds_t *o) {
  mbedtls_x509_crt_init(&o->crt);
  mbedtls_pk_init(&o->pk);
}

static void creds_free(op_creds_t *o) {
  mbedtls_x509_crt_free(&o->crt);
  mbedtls_pk_free(&o->pk);
}

/* 0 when @p crt certifies the public point of @p key. */
static int crt_matches_key(const mbedtls_x509_crt *crt, const edc_key_t *key) {
  return mbedtls_pk_get_type(&crt->pk) == MBEDTLS_PK_ECKEY &&
                 mbedtls_ecp_point_cmp(&mbedtls_pk_ec(crt->pk)->Q, &key->kp.Q) == 0
             ? 0
             : EDC_ERR_UNTRUSTED;
}

/* Parse a bundle into @p o: the stored private key, or the device key (secure element) that
 * the leaf must certify. */
static int parse_bundle(edc_client_t *c, const unsigned char *buf, size_t len, op_creds_t *o) {
  const unsigned char *d, *certs;
  unsigned leaf;
  size_t certs_len;
  int ret;
  if ((ret = edc_bundle_parse(buf, len, &d, &leaf, &certs, &certs_len)) != 0) return ret;
  ret = parse_chain(&o->crt, certs, certs_len, leaf);
  if (ret == 0 && d != NULL) {
    edc_key_t k;
    edc_key_init(&k);
    ret = edc_key_import_private(&k, d, EDC_P256_PRIVATE_LEN, mbedtls_ctr_drbg_random, &c->drbg);
    if (ret == 0) ret = edc_key_to_pk(&k, &o->pk);
    edc_key_free(&k);
  } else if (ret == 0 && c->dev_key != NULL) {
    ret = crt_matches_key(&o->crt, c->dev_key);
    if (ret == 0) ret = edc_key_to_pk(c->dev_key, &o->pk);
  }
  return ret;
}

/* Make parsed credentials the operational ones (takes ownership of @p o). */
static void adopt_creds(edc_client_t *c, op_creds_t *o) {
  mbedtls_x509_crt_free(&c->op_crt);
  mbedtls_pk_free(&c->op_pk);
  c->op_crt = o->crt; /* struct move: the chain's next nodes are on the heap */
  c->op_pk = o->pk;
  c->have_op = 1;
  c->op_not_before = edc_x509_time_to_epoch(&c->op_crt.valid_from);
  c->op_not_after = edc_x509_time_to_epoch(&c->op_crt.valid_to);
}

static uint32_t rand32(edc_client_t *c) {
  uint32_t rnd = 0;
  (void)mbedtls_ctr_drbg_random(&c->drbg, (unsigned char *)&rnd, sizeof(rnd));
  return rnd;
}

/* Plan the next renewal of the operational certificate (with jitter). */
static void plan_renewal(edc_client_t *c) {
  edc_sched_plan(&c->sched, c->op_not_before, c->op_not_after, rand32(c));
}

/* Install a bundle as the operational credentials (does not touch storage). */
static int install_bundle(edc_client_t *c, const unsigned char *buf, size_t len) {
  op_creds_t o;
  int ret;
  creds_init(&o);
  ret = parse_bundle(c, buf, len, &o);
  if (ret != 0) {
    creds_free(&o);
    return ret;
  }
  adopt_creds(c, &o);
  return EDC_OK;
}

int edc_client_load(edc_client_t *c) {
  size_t len = 0;
  int ret, found = 0;
  if (c == NULL || c->port->store_read == NULL) return EDC_ERR_INVALID_ARG;
  ret = c->port->store_read(c->port->ctx, EDC_SLOT_CA, c->work, c->work_size, &len);
  if (ret == 0) {
    mbedtls_x509_crt t;
    mbedtls_x509_crt_init(&t);
    if (parse_chain(&t, c->work, len, 0) != 0) {
      mbedtls_x509_crt_free(&t);
      return EDC_ERR_STORAGE;
    }
    mbedtls_x509_crt_free(&c->trust);
    c->trust = t;
    c->have_trust = TRUST_CACERTS;
    found = 1;
  } else if (ret != EDC_ERR_NOT_FOUND) {
    return ret;
  }
  ret = c->port->store_read(c->port->ctx, EDC_SLOT_OPERATIONAL, c->work, c->work_size, &len);
  if (ret == 0) {
    ret = install_bundle(c, c->work, len);
    mbedtls_platform_zeroize(c->work, len);
    if (ret != 0) return EDC_ERR_STORAGE;
    found = 1;
    plan_renewal(c);
  } else if (ret != EDC_ERR_NOT_FOUND) {
    return ret;
  }
  return found ? EDC_OK : EDC_ERR_NOT_FOUND;
}

/* 0 when @p crt chains to @p trust; validity dates are the scheduler's business (a device
 * clock may be wrong), so only they are overlooked. */
static int verify_chain(mbedtls_x509_crt *crt, mbedtls_x509_crt *trust) {
  uint32_t flags = 0;
  if (mbedtls_x509_crt_verify(crt, trust, NULL, NULL, &flags, NULL, NULL) != 0 &&
      (flags & ~(uint32_t)(MBEDTLS_X509_BADCERT_FUTURE | MBEDTLS_X509_BADCERT_EXPIRED)) != 0)
    return EDC_ERR_UNTRUSTED;
  return EDC_OK;
}

/* One EST request through the transport; a Retry-After is kept for the scheduler. */
EDC_NOINLINE static int est_exchange(edc_client_t *c, edc_est_op_t op, const unsigned char *req,
                                     size_t req_len, unsigned char *resp, size_t resp_size,
                                     size_t *resp_len) {
  uint32_t ra = 0;
  int ret = c->tr.ops->exchange(c->tr.self, op, req, req_len, resp, resp_size, resp_len, &ra);
  if (ret == EDC_ERR_RETRY_LATER) {
    c->last_retry_after_s = ra;
    c->last_has_retry_after = ra > 0;
  }
  return ret;
}

/* Parse an EST answer (certs-only PKCS#7 or one certificate) into @p chain, in its order. */
static int parse_answer(const unsigned char *buf, size_t len, edc_pkcs7_certs_t *certs,
                        mbedtls_x509_crt *chain) {
  size_t iter = 0, clen;
  const unsigned char *cert;
  int ret = edc_certs_parse(buf, len, certs);
  while (ret == 0 && edc_pkcs7_next_cert(certs, &iter, &cert, &clen) == 0)
    if (mbedtls_x509_crt_parse_der(chain, cert, clen) != 0) ret = EDC_ERR_MALFORMED;
  return ret;
}

/* Every certificate of @p set must chain to @p trust, with the others as intermediates. */
static int check_chains_to(const mbedtls_x509_crt *set, mbedtls_x509_crt *trust) {
  const mbedtls_x509_crt *n, *o;
  int ret = EDC_OK;
  for (n = set; ret == 0 && n != NULL; n = n->next) {
    mbedtls_x509_crt path;
    mbedtls_x509_crt_init(&path);
    /* the certificate first, then all of them as candidate intermediates (views, no copies) */
    ret = mbedtls_x509_crt_parse_der_nocopy(&path, n->raw.p, n->raw.len);
    for (o = set; ret == 0 && o != NULL; o = o->next)
      ret = mbedtls_x509_crt_parse_der_nocopy(&path, o->raw.p, o->raw.len);
    if (ret != 0 || verify_chain(&path, trust) != 0) ret = EDC_ERR_UNTRUSTED;
    mbedtls_x509_crt_free(&path);
  }
  return ret;
}

int edc_client_cacerts(edc_client_t *c) {
  edc_est_auth_t auth;
  edc_pkcs7_certs_t certs;
  mbedtls_x509_crt cand;
  const mbedtls_x509_crt *n, *pinned = NULL;
  size_t len = 0;
  int ret;
  if (c == NULL || c->tr.ops == NULL) return EDC_ERR_INVALID_ARG;
  if (!c->have_trust && !c->cfg.have_fingerprint) return EDC_ERR_UNTRUSTED;
  memset(&auth, 0, sizeof(auth));
  auth.trust = c->have_trust ? &c->trust : NULL;
  if (!c->have_trust) mbedtls_x509_crt_free(&c->trust); /* empty: it will hold the pin */
  mbedtls_x509_crt_init(&cand);
  ret = c->tr.ops->open(c->tr.self, &auth);
  if (ret == 0) ret = est_exchange(c, EDC_EST_CACERTS, NULL, 0, c->work, c->work_size, &len);
  if (ret == 0) ret = parse_answer(c->work, len, &certs, &cand);
  /* RFC 7030 4.1.1: without trust, one certificate of the set must have the pinned
   * fingerprint, and the provisionally accepted TLS server must chain to the set */
  for (n = &cand; ret == 0 && !c->have_trust && pinned == NULL; n = n->next) {
    unsigned char fp[32];
    if (mbedtls_sha256_ret(n->raw.p, n->raw.len, fp, 0) == 0 &&
        memcmp(fp, c->cfg.ca_fingerprint, 32) == 0)
      pinned = n;
    else if (n->next == NULL)
      ret = EDC_ERR_UNTRUSTED; /* the pin is not in the set */
  }
  if (ret == 0 && !c->have_trust) ret = c->tr.ops->verify_peer(c->tr.self, &cand);
  c->tr.ops->close(c->tr.self); /* the session's buffers are freed before the checks below */
  /* Every certificate of the set must chain to the anchor, or the whole set is refused: to the
   * pinned certificate parsed alone (4.1.1; a view of it, kept in the empty trust until the set
   * replaces it), else a man in the middle of the provisional session could add its own CA
   * next to the real one; or to the trust we hold, which authenticated the server (4.1.3; a
   * CA rollover passes through its NewWithOld certificate, 4.4). */
  if (ret == 0 && pinned != NULL &&
      mbedtls_x509_crt_parse_der_nocopy(&c->trust, pinned->raw.p, pinned->raw.len) != 0)
    ret = EDC_ERR_UNTRUSTED;
  if (ret == 0) ret = check_chains_to(&cand, &c->trust);
  if (ret == 0 && c->port->store_commit != NULL &&
      c->port->store_commit(c->port->ctx, EDC_SLOT_CA, certs.p, certs.len) != 0)
    ret = EDC_ERR_STORAGE;
  if (ret != 0) {
    if (!c->have_trust) mbedtls_x509_crt_free(&c->trust); /* the pin view, before its set */
    mbedtls_x509_crt_free(&cand);
    return ret;
  }
  mbedtls_x509_crt_free(&c->trust);
  c->trust = cand;
  c->have_trust = TRUST_CACERTS;
  return EDC_OK;
}

/* After the exchange: the answer (at CSR_AREA in the work buffer) must hold a certificate for
 * @p k that chains to our trust and has not expired; only then is {key, certificates}
 * committed and adopted. Not inlined, so that its parsed probe is not on the stack during the
 * handshake of do_enroll. */
EDC_NOINLINE static int finish_enroll(edc_client_t *c, edc_key_t *k, size_t resp_len) {
  unsigned char d[EDC_P256_PRIVATE_LEN], *resp = c->work + CSR_AREA;
  size_t resp_size = c->work_size - CSR_AREA, blen = 0;
  int fresh = k != c->dev_key; /* a key of ours, stored with the bundle */
  edc_pkcs7_certs_t certs;
  const mbedtls_x509_crt *n;
  unsigned leaf = 0;
  op_creds_t probe;
  int ret;

  /* RFC 7030 4.2.3: certs-only PKCS#7 holding the new certificate (and maybe its chain); the
   * certificate for our key is the leaf. Parsed in the probe, which is rebuilt below from
   * the bundle as it will be stored. */
  creds_init(&probe);
  ret = parse_answer(resp, resp_len, &certs, &probe.crt);
  for (n = &probe.crt; ret == 0 && crt_matches_key(n, k) != 0; leaf++)
    if ((n = n->next) == NULL) ret = EDC_ERR_UNTRUSTED; /* no certificate for our key */
  creds_free(&probe);
  creds_init(&probe);
  /* Build the bundle in place over the response and check it by parsing it as a load would;
   * the old credentials stay untouched until the commit worked. */
  if (ret == 0 && fresh) ret = edc_key_export_private(k, d, sizeof(d));
  if (ret == 0)
    ret = edc_bundle_write(resp, resp_size, &blen, fresh ? d : NULL, leaf, certs.p, certs.len);
  if (ret == 0) ret = parse_bundle(c, resp, blen, &probe);
  if (ret == 0 && c->have_trust) ret = verify_chain(&probe.crt, &c->trust);
  if (ret == 0 && c->port->wall_time_s != NULL &&
      edc_x509_time_to_epoch(&probe.crt.valid_to) <= c->port->wall_time_s(c->port->ctx))
    ret = EDC_ERR_EXPIRED;
  if (ret == 0 && (c->port->store_commit == NULL ||
                   c->port->store_commit(c->port->ctx, EDC_SLOT_OPERATIONAL, resp, blen) != 0))
    ret = EDC_ERR_STORAGE;
  if (ret == 0) {
    adopt_creds(c, &probe); /* takes the probe */
    plan_renewal(c);
  } else {
    creds_free(&probe);
  }
  mbedtls_platform_zeroize(d, sizeof(d));
  return ret;
}

/* The heart of enroll and re-enroll. */
static int do_enroll(edc_client_t *c, edc_est_op_t op, const edc_est_auth_t *auth) {
  edc_key_t key, *k = c->dev_key != NULL ? c->dev_key : &key;
  size_t resp_len = 0, csr_len = 0;
  int ret;
  char challenge[64];
  const char *chal = NULL;
  edc_csr_subject_t subj;

  c->last_retry_after_s = 0;
  c->last_has_retry_after = 0;
  edc_key_init(&key);
  ret = c->tr.ops->open(c->tr.self, auth);
  if (ret == 0 && c->cfg.challenge_password) {
    unsigned char cb[32];
    size_t cb_len = 0, b64 = 0;
    ret = c->tr.ops->channel_binding(c->tr.self, cb, sizeof(cb), &cb_len);
    if (ret == 0) ret = edc_base64_encode(challenge, sizeof(challenge), &b64, cb, cb_len);
    chal = challenge;
  }
  /* a fresh key on the device, or the one the secure element keeps (renewal, same key);
   * generated after the handshake, so that it is not on the heap during it */
  if (ret == 0 && k == &key) ret = edc_key_generate(&key, mbedtls_ctr_drbg_random, &c->drbg);
  /* RFC 7030 4.2.2: a renewal keeps the subject of the certificate being renewed, which the
   * CA may have written differently from what we asked for */
  subj = c->cfg.subject;
  if (op == EDC_EST_SIMPLEREENROLL) {
    subj.name_der = c->op_crt.subject_raw.p;
    subj.name_der_len = c->op_crt.subject_raw.len;
  }
  if (ret == 0)
    ret = edc_csr_write_der(k, &subj, chal, c->work, CSR_AREA, &csr_len, mbedtls_ctr_drbg_random,
                            &c->drbg);
  if (ret == 0)
    ret = est_exchange(c, op, c->work, csr_len, c->work + CSR_AREA, c->work_size - CSR_AREA,
                       &resp_len);
  c->tr.ops->close(c->tr.self);
  if (ret == 0) ret = finish_enroll(c, k, resp_len);
  mbedtls_platform_zeroize(challenge, sizeof(challenge));
  mbedtls_platform_zeroize(c->work, c->work_size);
  edc_key_free(&key);
  return ret;
}

/* Enroll (bootstrap certificate and/or token) or re-enroll (operational certificate). */
static int start_enroll(edc_client_t *c, edc_est_op_t op) {
  edc_est_auth_t auth;
  int re = op == EDC_EST_SIMPLEREENROLL, boot;
  if (c == NULL || c->tr.ops == NULL) return EDC_ERR_INVALID_ARG;
  boot = !re && c->have_boot;
  if (re ? !c->have_op || mbedtls_pk_get_type(&c->op_pk) == MBEDTLS_PK_NONE
         : !c->have_boot && c->cfg.basic == NULL)
    return EDC_ERR_NOT_FOUND;
  /* never send a CSR to an unverified server */
  if (!c->have_trust) return EDC_ERR_UNTRUSTED;
  auth.trust = &c->trust;
  auth.cert = re ? &c->op_crt : boot ? &c->boot_crt : NULL;
  auth.key = re ? &c->op_pk : boot ? &c->boot_key : NULL;
  auth.basic = re ? NULL : c->cfg.basic;
  return do_enroll(c, op, &auth);
}

int edc_client_enroll(edc_client_t *c) { return start_enroll(c, EDC_EST_SIMPLEENROLL); }

int edc_client_reenroll(edc_client_t *c) { return start_enroll(c, EDC_EST_SIMPLEREENROLL); }

int edc_client_step(edc_client_t *c, int64_t *next_s) {
  int64_t now;
  int ret = 0;
  edc_action_t act;
  if (c == NULL || c->port->wall_time_s == NULL) return EDC_ERR_INVALID_ARG;
  now = c->port->wall_time_s(c->port->ctx);
  act = edc_sched_decide(&c->sched, now, c->have_op, c->op_not_after);
  if (act != EDC_ACTION_WAIT) {
    /* RFC 7030 4.1.1: the CA certificates (and with them the chain of what we are issued) come
     * from /cacerts, authenticated by a pinned fingerprint or by an explicit trust anchor. */
    if (c->have_trust != TRUST_CACERTS) ret = edc_client_cacerts(c);
    if (ret == 0)
      ret = start_enroll(
          c, act == EDC_ACTION_REENROLL ? EDC_EST_SIMPLEREENROLL : EDC_EST_SIMPLEENROLL);
    if (ret != 0)
      edc_sched_failed(&c->sched, now, c->last_has_retry_after, c->last_retry_after_s, rand32(c));
  }
  if (next_s) *next_s = c->sched.next_s;
  return ret;
}

const mbedtls_x509_crt *edc_client_operational(const edc_client_t *c, int64_t *not_before,
                                               int64_t *not_after) {
  if (c == NULL || !c->have_op) return NULL;
  if (not_before) *not_before = c->op_not_before;
  if (not_after) *not_after = c->op_not_after;
  return &c->op_crt;
}

int edc_client_has_trust(const edc_client_t *c) { return c != NULL && c->have_trust; }

const mbedtls_x509_crt *edc_client_trust(const edc_client_t *c) {
  return (c != NULL && c->have_trust) ? &c->trust : NULL;
}

const mbedtls_x509_crt *edc_client_bootstrap(const edc_client_t *c) {
  return (c != NULL && c->have_boot) ? &c->boot_crt : NULL;
}

int64_t edc_client_renew_at(const edc_client_t *c) {
  return (c != NULL && c->have_op) ? c->sched.renew_at : 0;
}

uint32_t edc_client_retry_after(const edc_client_t *c) { return c ? c->last_retry_after_s : 0; }

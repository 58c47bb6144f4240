/**
 * @file edc_config.h
 * Compile-time configuration of the device client. Define EDC_CONFIG_FILE (a quoted header
 * name) to replace these defaults, or define the EDC_* macros before including any edc header.
 * Checked with #error below, in the manner of Mbed TLS's check_config.h.
 */
#ifndef EDC_CONFIG_H
#define EDC_CONFIG_H

#if defined(EDC_CONFIG_FILE)
#include EDC_CONFIG_FILE
#endif

#if !defined(MBEDTLS_CONFIG_FILE)
#include "mbedtls/config.h"
#else
#include MBEDTLS_CONFIG_FILE
#endif

/** EST over HTTPS (RFC 7030): TLS 1.2 and a minimal HTTP/1.1 client. */
#ifndef EDC_WITH_EST_HTTPS
#define EDC_WITH_EST_HTTPS 1
#endif

/** EST over CoAP/DTLS (RFC 9148). */
#ifndef EDC_WITH_EST_COAPS
#define EDC_WITH_EST_COAPS 0
#endif

/**
 * Keys held by a secure element (edc_key_set_external): sign the CSR through the callback and,
 * through a custom Mbed TLS pk type, authenticate TLS/DTLS with them.
 */
#ifndef EDC_WITH_EXTERNAL_KEY
#define EDC_WITH_EXTERNAL_KEY 1
#endif

/** Longest certificate chain kept from a PKCS#7 response. */
#ifndef EDC_MAX_CHAIN_CERTS
#define EDC_MAX_CHAIN_CERTS 4
#endif

/** Longest HTTP header block accepted in a response. */
#ifndef EDC_HTTP_MAX_HEADER
#define EDC_HTTP_MAX_HEADER 2048
#endif

/** Bytes at the start of the client's work buffer reserved for the CSR (and its challenge). */
#ifndef EDC_CSR_AREA
#define EDC_CSR_AREA 1024
#endif

/** Keep a small helper out of line where inlining it into several callers costs flash. */
#if defined(__GNUC__)
#define EDC_NOINLINE __attribute__((noinline))
#else
#define EDC_NOINLINE
#endif

/* ---- checks ---- */
#if !EDC_WITH_EST_HTTPS && !EDC_WITH_EST_COAPS
#error "edc_config.h: enable at least one transport (EDC_WITH_EST_HTTPS or EDC_WITH_EST_COAPS)"
#endif
#if EDC_WITH_EST_COAPS && !defined(MBEDTLS_SSL_PROTO_DTLS)
#error "edc_config.h: EDC_WITH_EST_COAPS needs MBEDTLS_SSL_PROTO_DTLS"
#endif
#if EDC_WITH_EST_COAPS && !defined(MBEDTLS_SSL_CLI_C)
#error "edc_config.h: EDC_WITH_EST_COAPS needs MBEDTLS_SSL_CLI_C"
#endif
#if EDC_WITH_EST_HTTPS && !defined(MBEDTLS_SSL_CLI_C)
#error "edc_config.h: EDC_WITH_EST_HTTPS needs MBEDTLS_SSL_CLI_C"
#endif
#if EDC_WITH_EST_HTTPS && !defined(MBEDTLS_SSL_PROTO_TLS1_2)
#error "edc_config.h: EDC_WITH_EST_HTTPS needs MBEDTLS_SSL_PROTO_TLS1_2"
#endif
#if !defined(MBEDTLS_ASN1_PARSE_C) || !defined(MBEDTLS_ASN1_WRITE_C)
#error "edc_config.h: the device client needs MBEDTLS_ASN1_PARSE_C and MBEDTLS_ASN1_WRITE_C"
#endif
#if !defined(MBEDTLS_BASE64_C)
#error "edc_config.h: the device client needs MBEDTLS_BASE64_C"
#endif
#if !defined(MBEDTLS_ECDSA_C) || !defined(MBEDTLS_ECP_DP_SECP256R1_ENABLED)
#error "edc_config.h: the device client needs MBEDTLS_ECDSA_C and MBEDTLS_ECP_DP_SECP256R1_ENABLED"
#endif
#if !defined(MBEDTLS_SHA256_C) || !defined(MBEDTLS_CTR_DRBG_C)
#error "edc_config.h: the device client needs MBEDTLS_SHA256_C and MBEDTLS_CTR_DRBG_C"
#endif
#if !defined(MBEDTLS_X509_CRT_PARSE_C) || !defined(MBEDTLS_PK_C)
#error "edc_config.h: the device client needs MBEDTLS_X509_CRT_PARSE_C and MBEDTLS_PK_C"
#endif
#if EDC_CSR_AREA < 384
#error "edc_config.h: EDC_CSR_AREA must be at least 384 bytes"
#endif
#if EDC_MAX_CHAIN_CERTS < 1
#error "edc_config.h: EDC_MAX_CHAIN_CERTS must be at least 1"
#endif

#endif /* EDC_CONFIG_H */

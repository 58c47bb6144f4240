/**
 * @file edc_mbedtls_config.h
 * Trimmed Mbed TLS 2.28 configuration for the Cortex-M build of the device client:
 * P-256 only, SHA-256, AES-GCM/CCM, TLS 1.2 client with ECDHE-ECDSA, no RSA, no PEM, no
 * file system, no time. Record buffers 4 KB in / 2 KB out (max_fragment_length asks the
 * server for 4 KB records, RFC 6066 4).
 */
#ifndef EDC_MBEDTLS_CONFIG_H
#define EDC_MBEDTLS_CONFIG_H

/* System */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY /* lets the hw-tests count heap use */
#define MBEDTLS_DEPRECATED_REMOVED

/* Crypto: P-256, SHA-256, AES-GCM/CCM, CTR_DRBG */
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_AES_FEWER_TABLES
#define MBEDTLS_CIPHER_C
#define MBEDTLS_GCM_C
#define MBEDTLS_CCM_C
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER
#define MBEDTLS_MD_C
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECDH_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_OID_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C

/* X.509 */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CSR_PARSE_C /* tests only; dropped by --gc-sections elsewhere */

/* TLS 1.2 client */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
/* MBEDTLS_SSL_KEEP_PEER_CERTIFICATE off: the server's chain is parsed in place, verified and
 * freed inside the Certificate message instead of being kept (2 certificates: ~2.5 KB of heap
 * through the rest of the handshake). The client checks the iPAddress SAN in the verify
 * callback and, after a provisional /cacerts, re-verifies the server with a second handshake
 * (edc_channel_verify_peer). */
#define MBEDTLS_SSL_CIPHERSUITES \
  MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CCM

/* Sizes */
#define MBEDTLS_SSL_IN_CONTENT_LEN 4096
#define MBEDTLS_SSL_OUT_CONTENT_LEN 2048
#define MBEDTLS_MPI_WINDOW_SIZE 2
#define MBEDTLS_MPI_MAX_SIZE 32
#define MBEDTLS_ECP_MAX_BITS 256
#define MBEDTLS_ECP_WINDOW_SIZE 2
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0
#define MBEDTLS_SSL_MAX_CONTENT_LEN 4096

#include "mbedtls/check_config.h"

#endif /* EDC_MBEDTLS_CONFIG_H */

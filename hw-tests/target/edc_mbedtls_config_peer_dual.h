/**
 * @file edc_mbedtls_config_peer_dual.h
 * Both transports plus the in-memory DTLS/EST server of edc_hw_dtls (test image only).
 */
#ifndef EDC_MBEDTLS_CONFIG_PEER_DUAL_H
#define EDC_MBEDTLS_CONFIG_PEER_DUAL_H
#define MBEDTLS_SSL_PROTO_DTLS
#define MBEDTLS_SSL_DTLS_HELLO_VERIFY
#define MBEDTLS_SSL_DTLS_ANTI_REPLAY
#include "edc_mbedtls_config_peer.h"
#endif

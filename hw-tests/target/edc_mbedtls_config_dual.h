/**
 * @file edc_mbedtls_config_dual.h
 * The client configuration plus DTLS 1.2 for EST-coaps (RFC 9148), for the image that carries
 * both transports (edc_hw_dual). HelloVerifyRequest support lets the client talk to servers
 * that use DTLS cookies (libcoap with OpenSSL does).
 */
#ifndef EDC_MBEDTLS_CONFIG_DUAL_H
#define EDC_MBEDTLS_CONFIG_DUAL_H
#define MBEDTLS_SSL_PROTO_DTLS
#define MBEDTLS_SSL_DTLS_HELLO_VERIFY
#define MBEDTLS_SSL_DTLS_ANTI_REPLAY
#include "edc_mbedtls_config.h"
#endif

/**
 * @file edc_mbedtls_config_peer.h
 * The client configuration plus what the in-memory EST server of edc_hw_tls needs (TLS server,
 * certificate writer). Only the TLS test image uses it; the footprint figures come from
 * edc_mbedtls_config.h alone. The in-memory servers check that the client sent its certificate
 * through mbedtls_ssl_get_peer_cert(), hence MBEDTLS_SSL_KEEP_PEER_CERTIFICATE here (the client
 * configuration leaves it off).
 */
#ifndef EDC_MBEDTLS_CONFIG_PEER_H
#define EDC_MBEDTLS_CONFIG_PEER_H
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_X509_CRT_WRITE_C
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
#include "edc_mbedtls_config.h"
#endif

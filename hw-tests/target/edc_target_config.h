/** @file edc_target_config.h Device-client options for the Cortex-M build (EDC_CONFIG_FILE). */
#ifndef EDC_TARGET_CONFIG_H
#define EDC_TARGET_CONFIG_H
#define EDC_WITH_EST_HTTPS 1
#define EDC_WITH_EST_COAPS 0
#define EDC_MAX_CHAIN_CERTS 3
#define EDC_HTTP_MAX_HEADER 1024
#define EDC_CSR_AREA 512
/* Ask the server for 4 KB records to match MBEDTLS_SSL_IN_CONTENT_LEN. */
#define EDC_TLS_MAX_FRAG_LEN MBEDTLS_SSL_MAX_FRAG_LEN_4096
#endif

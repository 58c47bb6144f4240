/* Internal helpers shared by the transports (not part of the public API). */
#ifndef EDC_INTERNAL_H
#define EDC_INTERNAL_H

#include "mbedtls/x509_crt.h"

/* 1 if @p s is a dotted-quad IPv4 literal (fills ip[4]). */
int edc_parse_ipv4(const char *s, unsigned char ip[4]);
/* 0 if @p crt has an iPAddress SAN equal to @p ip (Mbed TLS 2.28 matches only dNSName). */
int edc_check_ip_san(const mbedtls_x509_crt *crt, const unsigned char ip[4]);
/* Verify the peer certificate chain against @p trust and @p host (DNS name or IPv4). */
int edc_verify_peer_cert(const mbedtls_x509_crt *peer, const mbedtls_x509_crt *trust,
                         const char *host);

#endif

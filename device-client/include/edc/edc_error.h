/**
 * @file edc_error.h
 * Error codes of the device client: every function returns 0 on success or a negative
 * EDC_ERR_* code (a few return a positive count, documented where they do).
 */
#ifndef EDC_ERROR_H
#define EDC_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

#define EDC_OK 0
#define EDC_ERR_INVALID_ARG (-1)      /**< A NULL or out-of-range argument. */
#define EDC_ERR_BUFFER_TOO_SMALL (-2) /**< The caller's buffer is too small; see *olen. */
#define EDC_ERR_MALFORMED (-3)        /**< Input bytes do not parse. */
#define EDC_ERR_UNSUPPORTED (-4)      /**< Feature not compiled in or not available. */
#define EDC_ERR_CRYPTO (-5)           /**< An Mbed TLS crypto call failed. */
#define EDC_ERR_NET (-6)              /**< Network error (connect, send, receive). */
#define EDC_ERR_TIMEOUT (-7)          /**< Network timeout. */
#define EDC_ERR_TLS (-8)              /**< TLS handshake or record error. */
#define EDC_ERR_HTTP (-9)             /**< Unexpected HTTP status or malformed response. */
#define EDC_ERR_INCOMPLETE (-10)      /**< More input is needed (parsers). */
#define EDC_ERR_UNAUTHORIZED (-11)    /**< Server answered 401 (or 403). */
#define EDC_ERR_REJECTED (-12)        /**< Server answered another 4xx. */
#define EDC_ERR_SERVER (-13)          /**< Server answered 5xx. */
#define EDC_ERR_RETRY_LATER (-14)     /**< 202 or 503 with Retry-After: try again later. */
#define EDC_ERR_UNTRUSTED (-15)       /**< Fingerprint mismatch or chain does not verify. */
#define EDC_ERR_STORAGE (-16)         /**< Persistent storage failed. */
#define EDC_ERR_NOT_FOUND (-17)       /**< Nothing stored, or item absent. */
#define EDC_ERR_EXPIRED (-18)         /**< Certificate outside its validity. */
#define EDC_ERR_ALLOC (-19)           /**< Memory allocation failed. */

/** A constant English description of an EDC_ERR_* code (never NULL). */
const char *edc_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif /* EDC_ERROR_H */

#include "edc/edc_error.h"

const char *edc_strerror(int err) {
  switch (err) {
    case EDC_OK:
      return "success";
    case EDC_ERR_INVALID_ARG:
      return "invalid argument";
    case EDC_ERR_BUFFER_TOO_SMALL:
      return "buffer too small";
    case EDC_ERR_MALFORMED:
      return "malformed input";
    case EDC_ERR_UNSUPPORTED:
      return "not supported";
    case EDC_ERR_CRYPTO:
      return "cryptographic operation failed";
    case EDC_ERR_NET:
      return "network error";
    case EDC_ERR_TIMEOUT:
      return "network timeout";
    case EDC_ERR_TLS:
      return "TLS error";
    case EDC_ERR_HTTP:
      return "unexpected HTTP response";
    case EDC_ERR_INCOMPLETE:
      return "incomplete input";
    case EDC_ERR_UNAUTHORIZED:
      return "not authorized by server";
    case EDC_ERR_REJECTED:
      return "request rejected by server";
    case EDC_ERR_SERVER:
      return "server error";
    case EDC_ERR_RETRY_LATER:
      return "server asked to retry later";
    case EDC_ERR_UNTRUSTED:
      return "untrusted certificate or fingerprint mismatch";
    case EDC_ERR_STORAGE:
      return "storage error";
    case EDC_ERR_NOT_FOUND:
      return "not found";
    case EDC_ERR_EXPIRED:
      return "certificate expired or not yet valid";
    case EDC_ERR_ALLOC:
      return "out of memory";
    default:
      return "unknown error";
  }
}

#pragma once
/**
 * Certificate selectors (store::CertificateSelector) as operators write them: command-line flags
 * (`enrolld revoke`, `enrollctl revoke`, `enrollctl certificates list`), JSON bodies and query
 * parameters of the admin API. One codec, so the three read the same names the same way.
 */
#include <Poco/JSON/Object.h>

#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "pki/result.h"
#include "server/store/records.h"

namespace enroll::admin {

/** Seconds since the epoch from "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SS[Z]" (UTC) or digits. */
pki::Result<std::time_t> parseTimeText(const std::string& text);

/**
 * Applies one selector flag (--serial, --device, --serials-file, --devices-file, --model,
 * --batch, --product-line, --device-label K=V, --label, --bootstrap-ca, --station,
 * --issued-from, --issued-to, --expiring-before, --status) to sel, reading its value with
 * value(). False when flag is not a selector flag; throws std::invalid_argument for a bad value
 * and std::runtime_error for an unreadable file.
 */
bool applySelectorFlag(const std::string& flag, const std::function<std::string()>& value,
                       store::CertificateSelector* sel);

/** The usage lines of the selector flags. */
extern const char* const kSelectorFlagsUsage;

/** The selector as a JSON object (only the fields that are set). */
Poco::JSON::Object::Ptr selectorToJson(const store::CertificateSelector& sel);

/** A selector from JSON; InvalidArgument naming the field for unknown fields or wrong types. */
pki::Result<store::CertificateSelector> selectorFromJson(const Poco::JSON::Object::Ptr& o);

/**
 * A selector from query parameters (serial and device repeat; device_label=K=V repeats; the
 * others as in JSON). Parameters in ignore (paging) are skipped; others are InvalidArgument.
 */
pki::Result<store::CertificateSelector> selectorFromQuery(
    const std::vector<std::pair<std::string, std::string>>& query,
    const std::vector<std::string>& ignore);

}  // namespace enroll::admin

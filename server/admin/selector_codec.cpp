#include "server/admin/selector_codec.h"

#include <Poco/JSON/Array.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <stdexcept>

namespace enroll::admin {

using pki::ErrorCode;
using pki::makeError;
using Poco::JSON::Array;
using Poco::JSON::Object;

const char* const kSelectorFlagsUsage =
    R"(      --serial HEX               a certificate serial (repeatable)
      --device ID                certificates of a device (repeatable)
      --serials-file FILE        serials, one per line (# comments); --devices-file FILE: device ids
      --model M --batch B --product-line P   registry fields of the devices
      --device-label KEY=VALUE   a registry label of the devices (repeatable)
      --label NAME               enrollment label ("default" for the unlabelled path)
      --bootstrap-ca SHA256      SHA-256 of the manufacturer CA the bootstrap chain ended at
      --station NAME             issued through this provisioning station
      --issued-from T --issued-to T   issued in [from, to); T: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ
                                 or seconds since the epoch
      --expiring-before T        not_after earlier than T
      --status good|revoked|hold only certificates in this status
)";

pki::Result<std::time_t> parseTimeText(const std::string& text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos &&
      text.size() < 16)
    return static_cast<std::time_t>(std::stoll(text));
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end) {
    tm = {};
    end = strptime(text.c_str(), "%Y-%m-%d", &tm);
  }
  if (!end || !(*end == '\0' || (end[0] == 'Z' && end[1] == '\0')))
    return makeError(ErrorCode::kInvalidArgument,
                     "'" + text + "' is not YYYY-MM-DD[THH:MM:SSZ] or seconds since the epoch");
  return timegm(&tm);
}

namespace {

std::vector<std::string> readLines(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    size_t hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    size_t a = line.find_first_not_of(" \t\r,;");
    if (a == std::string::npos) continue;
    size_t b = line.find_last_not_of(" \t\r,;");
    out.push_back(line.substr(a, b - a + 1));
  }
  return out;
}

std::string fingerprintText(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::erase(s, ':');
  return s;
}

/** Sets one named scalar field (JSON member or query parameter) from text. */
pki::Result<bool> setField(const std::string& key, const std::string& v,
                           store::CertificateSelector* sel) {
  if (key == "model") {
    sel->model = v;
  } else if (key == "batch") {
    sel->batch = v;
  } else if (key == "product_line") {
    sel->product_line = v;
  } else if (key == "label") {
    sel->label = v;
  } else if (key == "bootstrap_ca") {
    sel->bootstrap_ca = fingerprintText(v);
  } else if (key == "station") {
    sel->station = v;
  } else if (key == "issued_from" || key == "issued_to" || key == "expiring_before") {
    auto t = parseTimeText(v);
    if (!t) return makeError(ErrorCode::kInvalidArgument, key + ": " + t.error().message);
    (key == "issued_from" ? sel->issued_from
     : key == "issued_to" ? sel->issued_to
                          : sel->expiring_before) = *t;
  } else if (key == "status") {
    if (v != "good" && v != "revoked" && v != "hold")
      return makeError(ErrorCode::kInvalidArgument, "status is good, revoked or hold");
    sel->status = store::parseCertStatus(v);
  } else {
    return false;
  }
  return true;
}

pki::Result<void> setDeviceLabel(const std::string& kv, store::CertificateSelector* sel) {
  size_t eq = kv.find('=');
  if (eq == std::string::npos || eq == 0)
    return makeError(ErrorCode::kInvalidArgument, "a device label is KEY=VALUE");
  sel->device_labels[kv.substr(0, eq)] = kv.substr(eq + 1);
  return pki::ok();
}

std::string timeText(std::time_t t) { return std::to_string(static_cast<int64_t>(t)); }

}  // namespace

bool applySelectorFlag(const std::string& flag, const std::function<std::string()>& value,
                       store::CertificateSelector* sel) {
  if (flag == "--serial") {
    sel->serials.push_back(value());
  } else if (flag == "--device") {
    sel->device_ids.push_back(value());
  } else if (flag == "--serials-file") {
    for (auto& s : readLines(value())) sel->serials.push_back(std::move(s));
  } else if (flag == "--devices-file") {
    for (auto& d : readLines(value())) sel->device_ids.push_back(std::move(d));
  } else if (flag == "--device-label") {
    auto set = setDeviceLabel(value(), sel);
    if (!set) throw std::invalid_argument("--device-label: " + set.error().message);
  } else if (flag.rfind("--", 0) == 0) {
    std::string key = flag.substr(2);
    std::replace(key.begin(), key.end(), '-', '_');
    if (key == "model" || key == "batch" || key == "product_line" || key == "label" ||
        key == "bootstrap_ca" || key == "station" || key == "issued_from" || key == "issued_to" ||
        key == "expiring_before" || key == "status") {
      auto set = setField(key, value(), sel);
      if (!set) throw std::invalid_argument(flag + ": " + set.error().message);
      return true;
    }
    return false;
  } else {
    return false;
  }
  return true;
}

Object::Ptr selectorToJson(const store::CertificateSelector& sel) {
  Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  auto list = [&o](const char* key, const std::vector<std::string>& values) {
    if (values.empty()) return;
    Array::Ptr a = new Array;
    for (const auto& v : values) a->add(v);
    o->set(key, a);
  };
  auto text = [&o](const char* key, const std::string& v) {
    if (!v.empty()) o->set(key, v);
  };
  list("serials", sel.serials);
  list("devices", sel.device_ids);
  text("model", sel.model);
  text("batch", sel.batch);
  text("product_line", sel.product_line);
  if (!sel.device_labels.empty()) {
    Object::Ptr labels = new Object;
    for (const auto& [k, v] : sel.device_labels) labels->set(k, v);
    o->set("device_labels", labels);
  }
  text("label", sel.label);
  text("bootstrap_ca", sel.bootstrap_ca);
  text("station", sel.station);
  if (sel.issued_from) o->set("issued_from", timeText(sel.issued_from));
  if (sel.issued_to) o->set("issued_to", timeText(sel.issued_to));
  if (sel.expiring_before) o->set("expiring_before", timeText(sel.expiring_before));
  if (sel.status) o->set("status", store::certStatusName(*sel.status));
  return o;
}

pki::Result<store::CertificateSelector> selectorFromJson(const Object::Ptr& o) {
  store::CertificateSelector sel;
  if (!o) return sel;
  for (const auto& [key, v] : *o) {
    if (key == "serials" || key == "devices") {
      auto a = o->getArray(key);
      if (!a) return makeError(ErrorCode::kInvalidArgument, key + " must be an array of strings");
      for (size_t i = 0; i < a->size(); ++i) {
        auto item = a->get(static_cast<unsigned>(i));
        if (!item.isString())
          return makeError(ErrorCode::kInvalidArgument, key + " must be an array of strings");
        (key == "serials" ? sel.serials : sel.device_ids).push_back(item.toString());
      }
    } else if (key == "device_labels") {
      auto labels = o->getObject(key);
      if (!labels) return makeError(ErrorCode::kInvalidArgument, "device_labels must be an object");
      for (const auto& [lk, lv] : *labels) {
        if (!lv.isString())
          return makeError(ErrorCode::kInvalidArgument, "device_labels values are strings");
        sel.device_labels[lk] = lv.toString();
      }
    } else {
      if (!v.isString() && !v.isInteger())
        return makeError(ErrorCode::kInvalidArgument, key + " must be a string");
      ENROLL_TRY(bool known, setField(key, v.toString(), &sel));
      if (!known)
        return makeError(ErrorCode::kInvalidArgument, "unknown selector field '" + key + "'");
    }
  }
  return sel;
}

pki::Result<store::CertificateSelector> selectorFromQuery(
    const std::vector<std::pair<std::string, std::string>>& query,
    const std::vector<std::string>& ignore) {
  store::CertificateSelector sel;
  for (const auto& [key, v] : query) {
    if (std::find(ignore.begin(), ignore.end(), key) != ignore.end()) continue;
    if (key == "serial") {
      sel.serials.push_back(v);
    } else if (key == "device") {
      sel.device_ids.push_back(v);
    } else if (key == "device_label") {
      ENROLL_CHECK(setDeviceLabel(v, &sel));
    } else {
      ENROLL_TRY(bool known, setField(key, v, &sel));
      if (!known) return makeError(ErrorCode::kInvalidArgument, "unknown filter '" + key + "'");
    }
  }
  return sel;
}

}  // namespace enroll::admin

#include "provisioning/registry_import.h"

#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>

namespace enroll::provisioning {

namespace {

const std::set<std::string>& knownColumns() {
  static const std::set<std::string> kColumns = {"id",           "model",  "batch",
                                                 "product_line", "labels", "bootstrap_fingerprint",
                                                 "ek_hash",      "state"};
  return kColumns;
}

bool isSha256Hex(const std::string& s) {
  return s.size() == 64 && std::ranges::all_of(s, [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c)) != 0;
         });
}

std::string lowerHex(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/** "k=v;k2=v2" or a JSON object -> JSON object text. Empty -> "{}". */
bool labelsToJson(const std::string& in, std::string* out, std::string* why) {
  if (in.empty()) {
    *out = "{}";
    return true;
  }
  Poco::JSON::Object obj;
  if (in.front() == '{') {
    try {
      Poco::JSON::Parser parser;
      auto parsed = parser.parse(in).extract<Poco::JSON::Object::Ptr>();
      for (const auto& k : parsed->getNames()) {
        if (!parsed->get(k).isString()) {
          *why = "labels." + k + " must be a string";
          return false;
        }
        obj.set(k, parsed->getValue<std::string>(k));
      }
    } catch (const std::exception&) {
      *why = "labels is not a JSON object";
      return false;
    }
  } else {
    size_t start = 0;
    while (start <= in.size()) {
      size_t end = in.find(';', start);
      std::string pair =
          in.substr(start, end == std::string::npos ? std::string::npos : end - start);
      size_t eq = pair.find('=');
      if (eq == std::string::npos || eq == 0) {
        *why = "labels must be k=v;k=v or a JSON object";
        return false;
      }
      obj.set(pair.substr(0, eq), pair.substr(eq + 1));
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  std::ostringstream ss;
  obj.stringify(ss);
  *out = ss.str();
  return true;
}

/** Checks and converts one row given as column -> value. */
bool makeDevice(const std::map<std::string, std::string>& row, store::DeviceRecord* d,
                std::string* why) {
  auto get = [&](const char* k) {
    auto it = row.find(k);
    return it == row.end() ? std::string() : it->second;
  };
  d->id = get("id");
  if (d->id.empty()) {
    *why = "id is empty";
    return false;
  }
  for (char c : d->id) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      *why = "id has control characters";
      return false;
    }
  }
  if (d->id.size() > 128) {
    *why = "id is longer than 128 characters";
    return false;
  }
  d->model = get("model");
  d->batch = get("batch");
  d->product_line = get("product_line");
  if (!labelsToJson(get("labels"), &d->labels, why)) return false;
  d->bootstrap_fingerprint = lowerHex(get("bootstrap_fingerprint"));
  if (!d->bootstrap_fingerprint.empty() && !isSha256Hex(d->bootstrap_fingerprint)) {
    *why = "bootstrap_fingerprint must be 64 hex digits (SHA-256)";
    return false;
  }
  d->ek_hash = lowerHex(get("ek_hash"));
  if (!d->ek_hash.empty() && !isSha256Hex(d->ek_hash)) {
    *why = "ek_hash must be 64 hex digits (SHA-256)";
    return false;
  }
  std::string state = get("state");
  if (state.empty()) state = "expected";
  if (!store::parseDeviceState(state, &d->state)) {
    *why = "state '" + state + "' is not expected, enrolled, blocked or retired";
    return false;
  }
  return true;
}

/** Splits CSV text into records of fields (RFC 4180 quoting; CRLF or LF). */
bool splitCsv(const std::string& text, std::vector<std::vector<std::string>>* records,
              std::string* why) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"' && field.empty()) {
      quoted = true;
      any = true;
    } else if (c == ',') {
      fields.push_back(field);
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty()) {
        fields.push_back(field);
        records->push_back(fields);
      }
      fields.clear();
      field.clear();
      any = false;
    } else {
      field += c;
      any = true;
    }
  }
  if (quoted) {
    *why = "unterminated quoted field";
    return false;
  }
  if (any || !field.empty()) {
    fields.push_back(field);
    records->push_back(fields);
  }
  return true;
}

void addUnique(RegistryFile& out, std::set<std::string>& seen, size_t row, store::DeviceRecord d) {
  if (!seen.insert(d.id).second) {
    out.errors.push_back({row, "device " + d.id + " appears more than once in the file"});
    return;
  }
  out.devices.push_back(std::move(d));
}

}  // namespace

RegistryFile parseRegistryCsv(const std::string& text) {
  RegistryFile out;
  std::vector<std::vector<std::string>> records;
  std::string why;
  if (!splitCsv(text, &records, &why)) {
    out.errors.push_back({0, why});
    return out;
  }
  if (records.empty()) {
    out.errors.push_back({0, "the file is empty (a header line is required)"});
    return out;
  }
  const auto& header = records.front();
  for (const auto& col : header) {
    if (!knownColumns().contains(col)) out.errors.push_back({0, "unknown column '" + col + "'"});
  }
  if (std::find(header.begin(), header.end(), "id") == header.end()) {
    out.errors.push_back({0, "the header has no id column"});
  }
  if (!out.errors.empty()) return out;
  std::set<std::string> seen;
  for (size_t r = 1; r < records.size(); ++r) {
    if (records[r].size() != header.size()) {
      out.errors.push_back({r, "has " + std::to_string(records[r].size()) +
                                   " fields, the header has " + std::to_string(header.size())});
      continue;
    }
    std::map<std::string, std::string> row;
    for (size_t c = 0; c < header.size(); ++c) row[header[c]] = records[r][c];
    store::DeviceRecord d;
    if (!makeDevice(row, &d, &why)) {
      out.errors.push_back({r, why});
      continue;
    }
    addUnique(out, seen, r, std::move(d));
  }
  return out;
}

RegistryFile parseRegistryJson(const std::string& text) {
  RegistryFile out;
  Poco::JSON::Array::Ptr rows;
  try {
    Poco::JSON::Parser parser;
    rows = parser.parse(text).extract<Poco::JSON::Array::Ptr>();
  } catch (const std::exception&) {
    out.errors.push_back({0, "the file is not a JSON array of objects"});
    return out;
  }
  std::set<std::string> seen;
  for (size_t r = 0; r < rows->size(); ++r) {
    auto obj = rows->getObject(static_cast<unsigned>(r));
    if (!obj) {
      out.errors.push_back({r + 1, "is not a JSON object"});
      continue;
    }
    std::map<std::string, std::string> row;
    std::string why;
    for (const auto& k : obj->getNames()) {
      if (!knownColumns().contains(k)) {
        why = "unknown field '" + k + "'";
        break;
      }
      auto v = obj->get(k);
      if (k == "labels" && v.type() == typeid(Poco::JSON::Object::Ptr)) {
        std::ostringstream ss;
        v.extract<Poco::JSON::Object::Ptr>()->stringify(ss);
        row[k] = ss.str();
      } else if (v.isString()) {
        row[k] = v.extract<std::string>();
      } else {
        why = "field '" + k + "' must be a string";
        break;
      }
    }
    store::DeviceRecord d;
    if (why.empty() && makeDevice(row, &d, &why)) {
      addUnique(out, seen, r + 1, std::move(d));
    } else {
      out.errors.push_back({r + 1, why});
    }
  }
  return out;
}

pki::Result<ImportReport> importRegistry(store::DeviceStore& store, const std::string& text,
                                         const std::string& format, std::time_t now) {
  if (format != "csv" && format != "json")
    return pki::makeError(pki::ErrorCode::kInvalidArgument, "the format is csv or json");
  ImportReport report;
  report.file = format == "csv" ? parseRegistryCsv(text) : parseRegistryJson(text);
  if (!report.file.errors.empty()) return report;
  ENROLL_TRY(report.added, store.importDevices(report.file.devices, now));
  report.imported = true;
  return report;
}

}  // namespace enroll::provisioning

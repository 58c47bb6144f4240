#pragma once
/**
 * Reading a factory's manufacturing export into registry rows: CSV with a header line, or a JSON
 * array of objects. Every row is checked and every problem reported with its row number, so an
 * import is either whole or refused with the full list of what to fix.
 */
#include <string>
#include <vector>

#include "server/store/store.h"

namespace enroll::provisioning {

/** One refused row: its number (1 = first data row) and why. */
struct RowError {
  size_t row = 0;
  std::string reason;
};

/** The outcome of parsing: the rows that are valid, and every problem found. */
struct RegistryFile {
  std::vector<store::DeviceRecord> devices;
  std::vector<RowError> errors;
};

/**
 * CSV columns (header required, any order): id (required), model, batch, product_line,
 * labels (a JSON object, or "k=v;k=v"), bootstrap_fingerprint (SHA-256 hex), ek_hash
 * (SHA-256 hex), state (expected|enrolled|blocked|retired; default expected). Quoted fields
 * ("a,b", "" for a quote) are understood. A repeated id within the file is an error.
 */
RegistryFile parseRegistryCsv(const std::string& text);
/** The same fields as a JSON array of objects; unknown fields are errors. */
RegistryFile parseRegistryJson(const std::string& text);

/** The outcome of an import: what was parsed (with any row errors) and how many were new. */
struct ImportReport {
  RegistryFile file;
  int64_t added = 0;      ///< devices new to the registry
  bool imported = false;  ///< false when row errors refused the whole file
};

/**
 * Parses a file ("csv" or "json") and, when every row is valid, imports it in one transaction.
 * Row problems are a report (imported = false), not an error; store failures are errors.
 */
pki::Result<ImportReport> importRegistry(store::DeviceStore& store, const std::string& text,
                                         const std::string& format, std::time_t now);

}  // namespace enroll::provisioning

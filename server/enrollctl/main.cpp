// enrollctl: the operator's command line over enrolld's admin API.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "pki/certificate_request.h"
#include "pki/private_key.h"
#include "server/admin/selector_codec.h"
#include "server/enrollctl/admin_client.h"
#include "server/store/records.h"

namespace {

using enroll::enrollctl::AdminClient;
using enroll::enrollctl::Connection;
using enroll::enrollctl::encode;
using enroll::enrollctl::Reply;
using Poco::JSON::Array;
using Poco::JSON::Object;

const char* kUsage = R"(enrollctl - operate an enrolld server through its admin API

Usage: enrollctl [connection options] [--json] COMMAND ...

Connection (flags, else environment, else the defaults of a local data folder):
  --server URL      https://HOST:PORT of the admin listener  ($ENROLLCTL_SERVER, https://127.0.0.1:9443)
  --cert FILE       operator certificate (PEM)               ($ENROLLCTL_CERT)
  --key FILE        its key (PEM)                            ($ENROLLCTL_KEY)
  --cacert FILE     CA of enrolld's TLS certificate (PEM)    ($ENROLLCTL_CACERT)
  --dir DIR         take all of the above from an enrolld data folder on this host
                    (DIR/admin/admin.pem, admin.key, ca/root-ca.pem, listen.admin)
  --json            print the server's JSON instead of tables (for scripts)

Commands:
  whoami
  registry import FILE [--format csv|json]      import devices; every row checked, all or nothing
  registry list [--state S] [--model M] [--batch B] [--product-line P] [--label K=V]...
                [--limit N | --all]
  registry show ID                               a device, its certificates and its history
  registry set-state ID expected|enrolled|blocked|retired
  certificates list [selectors] [--expiring-within DAYS] [--count] [--limit N | --all]
  certificates show SERIAL [--pem]
  revoke [selectors] [--reason R | --hold | --release] [--block-devices] [--dry-run] [--no-wait]
                                                 revoke, hold or release what the selectors match
                                                 (all must match) as one job on the server, with
                                                 progress; safe to interrupt and to run again
  jobs show ID | stop ID                         a revocation job: progress, counts; stop it
                                                 after its current chunk
Selectors (certificates list, revoke):
%SELECTORS%
  tokens create [--label L] (--count N | --device ID...) [--batch B] [--expires-days D]
                [--out FILE]                     one-time tokens as CSV for the line's station
                                                 (the only time their text exists; FILE gets 0600)
  tokens list [--label L] [--state unused|used|revoked|expired]
  tokens export [--label L] [--state S] [--out FILE]
                                                 token records (no secrets) as CSV
  tokens revoke TOKEN|HASH
  stations list | add NAME CERT.pem | remove NAME
  pending list | approve ID | reject ID
  operators list | add NAME --role viewer|operator|admin --out PREFIX | remove NAME
                                                 add writes PREFIX.key (0600) and PREFIX.pem
  audit list [--after SEQ] [--limit N]
  audit verify [--state FILE]                    check the hash chain of the whole audit log;
                                                 with FILE, also that nothing verified before
                                                 was removed or rewritten since

Exit codes: 0 done; 1 refused or failed (the message says why); 2 usage; 3 cannot reach
enrolld or TLS failed; 4 not authenticated or role not allowed; 5 not found; 6 an import was
refused because of rows in the file (nothing imported); 7 the audit log does not verify.
)";

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitConnection = 3;
constexpr int kExitAuth = 4;
constexpr int kExitNotFound = 5;
constexpr int kExitRowsRefused = 6;
constexpr int kExitAuditBroken = 7;

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/** A command's arguments: positionals and --options (repeatable ones collect). */
struct Args {
  std::vector<std::string> positional;
  std::multimap<std::string, std::string> options;
  std::string get(const std::string& k, const std::string& fallback = {}) const {
    auto it = options.find(k);
    return it == options.end() ? fallback : it->second;
  }
  std::vector<std::string> all(const std::string& k) const {
    std::vector<std::string> out;
    auto [a, b] = options.equal_range(k);
    for (auto it = a; it != b; ++it) out.push_back(it->second);
    return out;
  }
  bool has(const std::string& k) const { return options.contains(k); }
};

Args parseArgs(const std::vector<std::string>& in, const std::vector<std::string>& flags,
               const std::vector<std::string>& valued) {
  Args a;
  for (size_t i = 0; i < in.size(); ++i) {
    const std::string& s = in[i];
    if (s.rfind("--", 0) != 0) {
      a.positional.push_back(s);
      continue;
    }
    if (std::find(flags.begin(), flags.end(), s) != flags.end()) {
      a.options.emplace(s, "1");
    } else if (std::find(valued.begin(), valued.end(), s) != valued.end()) {
      if (i + 1 >= in.size()) throw UsageError(s + " needs a value");
      a.options.emplace(s, in[++i]);
    } else {
      throw UsageError("unknown option " + s);
    }
  }
  return a;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/** Writes a file that must not exist yet; mode 0600 for secrets. */
void writeNewFile(const std::string& path, const std::string& data, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, mode);
  if (fd < 0) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n <= 0) {
      ::close(fd);
      throw std::runtime_error("cannot write " + path);
    }
    off += static_cast<size_t>(n);
  }
  ::close(fd);
}

std::string str(const Object::Ptr& o, const std::string& k) {
  if (!o || !o->has(k) || o->isNull(k)) return {};
  return o->get(k).toString();
}

std::string when(const Object::Ptr& o, const std::string& k) {
  std::string v = str(o, k);
  if (v.empty() || v == "0") return "-";
  std::time_t t = std::stoll(v);
  char buf[32];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

/** Prints rows under headers, columns padded to their widest cell. */
void printTable(const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(headers.size());
  for (size_t i = 0; i < headers.size(); ++i) width[i] = headers[i].size();
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], r[i].size());
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t i = 0; i < cells.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size()) out += std::string(width[i] - cells[i].size() + 2, ' ');
    }
    std::cout << out << "\n";
  };
  line(headers);
  for (const auto& r : rows) line(r);
}

std::string csvField(const std::string& v) {
  if (v.find_first_of(",\"\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

/** Runs commands against one server, mapping answers to output and exit codes. */
class Cli {
 public:
  Cli(AdminClient& client, bool json) : client_(client), json_(json) {}

  int run(const std::string& group, const std::vector<std::string>& rest) {
    if (group == "whoami") return whoami();
    if (group == "registry") return registry(rest);
    if (group == "certificates") return certificates(rest);
    if (group == "revoke") return revoke(rest);
    if (group == "jobs") return jobs(rest);
    if (group == "tokens") return tokens(rest);
    if (group == "stations") return stations(rest);
    if (group == "pending") return pending(rest);
    if (group == "operators") return operators(rest);
    if (group == "audit") return audit(rest);
    throw UsageError("unknown command " + group);
  }

 private:
  /** Calls and, on an error status, prints the server's reason and returns its exit code. */
  bool call(const std::string& method, const std::string& path, Reply* reply,
            const std::string& body = {}, const std::string& type = "application/json") {
    *reply = client_.call(method, path, body, type);
    if (reply->status < 400) return true;
    std::cerr << "enrollctl: " << reply->errorMessage() << " (HTTP " << reply->status << ")\n";
    exit_ = reply->status == 401 || reply->status == 403 ? kExitAuth
            : reply->status == 404                       ? kExitNotFound
                                                         : kExitFailed;
    return false;
  }

  /** --json: the body as the server sent it. */
  bool printedJson(const Reply& r) {
    if (!json_) return false;
    std::cout << r.body << (r.body.empty() || r.body.back() == '\n' ? "" : "\n");
    return true;
  }

  int whoami() {
    Reply r;
    if (!call("GET", "/api/v1/whoami", &r)) return exit_;
    if (printedJson(r)) return 0;
    std::cout << str(r.json, "name") << " (" << str(r.json, "role") << ")\n";
    return 0;
  }

  int registry(const std::vector<std::string>& in) {
    if (in.empty()) throw UsageError("registry import | list | show | set-state");
    std::vector<std::string> rest(in.begin() + 1, in.end());
    const std::string& verb = in[0];
    if (verb == "import") {
      Args a = parseArgs(rest, {}, {"--format"});
      if (a.positional.size() != 1) throw UsageError("registry import FILE [--format csv|json]");
      const std::string& file = a.positional[0];
      std::string format = a.get(
          "--format", file.size() > 5 && file.substr(file.size() - 5) == ".json" ? "json" : "csv");
      if (format != "csv" && format != "json") throw UsageError("--format is csv or json");
      std::string text = readFile(file);
      if (!json_)
        std::cerr << "enrollctl: uploading " << file << " (" << text.size() << " bytes)\n";
      Reply r = client_.call("POST", "/api/v1/registry/import?format=" + format, text,
                             format == "json" ? "application/json" : "text/csv");
      if (r.status == 422) {
        if (printedJson(r)) return kExitRowsRefused;
        auto errors = r.json ? r.json->getArray("errors") : nullptr;
        size_t n = errors ? errors->size() : 0;
        std::cerr << "enrollctl: " << file << " refused, nothing imported: " << n
                  << " problem(s)\n";
        for (size_t i = 0; i < n && i < 100; ++i) {
          auto e = errors->getObject(static_cast<unsigned>(i));
          std::string row = str(e, "row");
          std::cerr << "  " << (row == "0" ? std::string("file") : "row " + row) << ": "
                    << str(e, "reason") << "\n";
        }
        if (n > 100) std::cerr << "  ... and " << n - 100 << " more\n";
        return kExitRowsRefused;
      }
      if (r.status >= 400) {
        std::cerr << "enrollctl: " << r.errorMessage() << " (HTTP " << r.status << ")\n";
        return r.status == 401 || r.status == 403 ? kExitAuth : kExitFailed;
      }
      if (printedJson(r)) return 0;
      std::cout << "imported " << str(r.json, "rows") << " device(s): " << str(r.json, "new")
                << " new, " << str(r.json, "known") << " already known\n";
      return 0;
    }
    if (verb == "list") {
      Args a = parseArgs(rest, {"--all"},
                         {"--state", "--model", "--batch", "--product-line", "--label", "--limit"});
      std::string query;
      auto add = [&query](const std::string& k, const std::string& v) {
        if (v.empty()) return;
        query += (query.empty() ? "?" : "&") + k + "=" + encode(v);
      };
      add("state", a.get("--state"));
      add("model", a.get("--model"));
      add("batch", a.get("--batch"));
      add("product_line", a.get("--product-line"));
      for (const auto& l : a.all("--label")) add("label", l);
      bool all = a.has("--all");
      add("limit", all ? "1000" : a.get("--limit", "100"));
      std::vector<std::vector<std::string>> rows;
      Array::Ptr everything = new Array;
      std::string after;
      for (;;) {
        Reply r;
        std::string page = query + (after.empty() ? "" : "&after=" + encode(after));
        if (!call("GET", "/api/v1/devices" + page, &r)) return exit_;
        auto devices = r.json->getArray("devices");
        for (size_t i = 0; i < devices->size(); ++i) {
          auto d = devices->getObject(static_cast<unsigned>(i));
          everything->add(d);
          rows.push_back({str(d, "id"), str(d, "state"), str(d, "model"), str(d, "batch"),
                          str(d, "product_line"), str(d, "enroll_count")});
        }
        after = str(r.json, "next");
        if (!all || after.empty()) break;
        std::cerr << "enrollctl: " << rows.size() << " devices so far...\r" << std::flush;
      }
      if (json_) {
        Object::Ptr o = new Object;
        o->set("devices", everything);
        o->stringify(std::cout);
        std::cout << "\n";
        return 0;
      }
      printTable({"ID", "STATE", "MODEL", "BATCH", "PRODUCT LINE", "ENROLLMENTS"}, rows);
      return 0;
    }
    if (verb == "show") {
      Args a = parseArgs(rest, {}, {});
      if (a.positional.size() != 1) throw UsageError("registry show ID");
      Reply r;
      if (!call("GET", "/api/v1/devices/" + encode(a.positional[0]), &r)) return exit_;
      if (printedJson(r)) return 0;
      const auto& d = r.json;
      std::ostringstream labels;
      if (auto l = d->getObject("labels")) l->stringify(labels);
      std::cout << "id            " << str(d, "id") << "\nstate         " << str(d, "state")
                << "\nmodel         " << str(d, "model") << "\nbatch         " << str(d, "batch")
                << "\nproduct line  " << str(d, "product_line") << "\nlabels        "
                << labels.str() << "\nenrollments   " << str(d, "enroll_count") << "\n\n";
      std::vector<std::vector<std::string>> certs;
      auto ca = d->getArray("certificates");
      for (size_t i = 0; ca && i < ca->size(); ++i) {
        auto c = ca->getObject(static_cast<unsigned>(i));
        certs.push_back({str(c, "serial"), str(c, "status"), str(c, "label"), when(c, "issued_at"),
                         when(c, "not_after")});
      }
      printTable({"CERTIFICATE", "STATUS", "LABEL", "ISSUED", "EXPIRES"}, certs);
      std::cout << "\n";
      std::vector<std::vector<std::string>> events;
      auto ea = d->getArray("history");
      for (size_t i = 0; ea && i < ea->size(); ++i) {
        auto e = ea->getObject(static_cast<unsigned>(i));
        events.push_back({when(e, "at"), str(e, "protocol"), str(e, "operation"), str(e, "outcome"),
                          str(e, "serial"), str(e, "reason")});
      }
      printTable({"WHEN", "PROTOCOL", "OPERATION", "OUTCOME", "SERIAL", "REASON"}, events);
      return 0;
    }
    if (verb == "set-state") {
      Args a = parseArgs(rest, {}, {});
      if (a.positional.size() != 2) throw UsageError("registry set-state ID STATE");
      Object::Ptr body = new Object;
      body->set("state", a.positional[1]);
      std::ostringstream os;
      body->stringify(os);
      Reply r;
      if (!call("POST", "/api/v1/devices/" + encode(a.positional[0]) + "/state", &r, os.str()))
        return exit_;
      if (printedJson(r)) return 0;
      std::cout << str(r.json, "id") << " is now " << str(r.json, "state") << "\n";
      return 0;
    }
    throw UsageError("registry import | list | show | set-state");
  }

  /** Splits selector flags (into sel) from the others (returned, for parseArgs). */
  static std::vector<std::string> takeSelectors(const std::vector<std::string>& in,
                                                enroll::store::CertificateSelector* sel) {
    std::vector<std::string> rest;
    for (size_t i = 0; i < in.size(); ++i) {
      auto value = [&]() -> std::string {
        if (i + 1 >= in.size()) throw UsageError(in[i] + " needs a value");
        return in[++i];
      };
      try {
        if (!enroll::admin::applySelectorFlag(in[i], value, sel)) rest.push_back(in[i]);
      } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
      }
    }
    return rest;
  }

  /** Query parameters for a selector (the admin API's names). */
  static std::string selectorQuery(const enroll::store::CertificateSelector& sel) {
    std::string q;
    auto add = [&q](const std::string& k, const std::string& v) {
      q += (q.empty() ? "?" : "&") + k + "=" + encode(v);
    };
    auto json = enroll::admin::selectorToJson(sel);
    for (const auto& s : sel.serials) add("serial", s);
    for (const auto& d : sel.device_ids) add("device", d);
    for (const auto& [k, v] : sel.device_labels) add("device_label", k + "=" + v);
    for (const auto& [k, v] : *json) {
      if (k != "serials" && k != "devices" && k != "device_labels") add(k, v.toString());
    }
    return q;
  }

  std::vector<std::string> certificateRow(const Object::Ptr& c) {
    return {str(c, "serial"), str(c, "status"),     str(c, "device_id"),
            str(c, "label"),  when(c, "issued_at"), when(c, "not_after")};
  }

  int certificates(const std::vector<std::string>& in) {
    if (!in.empty() && in[0] == "list") {
      enroll::store::CertificateSelector sel;
      Args a = parseArgs(takeSelectors({in.begin() + 1, in.end()}, &sel), {"--all", "--count"},
                         {"--limit", "--expiring-within"});
      if (a.has("--expiring-within"))
        sel.expiring_before = std::time(nullptr) + std::stoll(a.get("--expiring-within")) * 86400;
      std::string query = selectorQuery(sel);
      bool all = a.has("--all");
      query += std::string(query.empty() ? "?" : "&") +
               "limit=" + (all ? "10000" : a.get("--limit", "100"));
      if (a.has("--count")) query += "&count=true";
      std::vector<std::vector<std::string>> rows;
      Array::Ptr everything = new Array;
      std::string after;
      std::string count;
      for (;;) {
        Reply r;
        if (!call("GET", "/api/v1/certificates" + query + (after.empty() ? "" : "&after=" + after),
                  &r))
          return exit_;
        auto items = r.json->getArray("certificates");
        for (size_t i = 0; i < items->size(); ++i) {
          auto c = items->getObject(static_cast<unsigned>(i));
          everything->add(c);
          rows.push_back(certificateRow(c));
        }
        if (count.empty()) count = str(r.json, "count");
        after = str(r.json, "next");
        if (!all || after.empty()) break;
        std::cerr << "enrollctl: " << rows.size() << " certificates so far...\r" << std::flush;
      }
      if (json_) {
        Object::Ptr o = new Object;
        o->set("certificates", everything);
        if (!count.empty()) o->set("count", std::stoll(count));
        o->stringify(std::cout);
        std::cout << "\n";
        return 0;
      }
      printTable({"SERIAL", "STATUS", "DEVICE", "LABEL", "ISSUED", "EXPIRES"}, rows);
      if (!count.empty()) std::cout << count << " certificate(s) match\n";
      return 0;
    }
    if (in.empty() || in[0] != "show") throw UsageError("certificates list | show SERIAL");
    Args a = parseArgs({in.begin() + 1, in.end()}, {"--pem"}, {});
    if (a.positional.size() != 1) throw UsageError("certificates show SERIAL [--pem]");
    Reply r;
    if (!call("GET", "/api/v1/certificates/" + encode(a.positional[0]), &r)) return exit_;
    if (printedJson(r)) return 0;
    if (a.has("--pem")) {
      std::cout << str(r.json, "pem");
      return 0;
    }
    for (const char* k : {"serial", "status", "device_id", "subject", "issuer", "label", "profile",
                          "protocol", "station"})
      std::cout << k << std::string(14 - std::string(k).size(), ' ') << str(r.json, k) << "\n";
    for (const char* k : {"not_before", "not_after", "issued_at", "revoked_at"})
      std::cout << k << std::string(14 - std::string(k).size(), ' ') << when(r.json, k) << "\n";
    return 0;
  }

  /** Prints a job's progress line (people) or nothing (--json). */
  void progressLine(const Object::Ptr& job) {
    if (json_) return;
    std::string done = str(job, "done");
    std::string total = str(job, "total");
    long long t = total.empty() ? 0 : std::stoll(total);
    long long d = done.empty() ? 0 : std::stoll(done);
    std::cerr << "enrollctl: job " << str(job, "id") << " " << str(job, "state") << ": " << d << "/"
              << t;
    if (t > 0) std::cerr << " (" << (100 * d / t) << "%)";
    std::cerr << "\n";
  }

  /** Exit code and summary for a finished (or stopped) job. */
  int jobOutcome(const Reply& r) {
    const auto& job = r.json;
    if (printedJson(r)) {
      return str(job, "state") == "done" ? 0 : kExitFailed;
    }
    std::string state = str(job, "state");
    std::cout << "job " << str(job, "id") << " " << state << ": " << str(job, "matched")
              << " matched, " << str(job, "changed") << " changed (" << str(job, "action")
              << (str(job, "action") == "revoke" ? ", " + str(job, "reason") : std::string())
              << "), " << str(job, "devices_blocked") << " device(s) blocked\n";
    if (state == "failed") {
      std::cerr << "enrollctl: the job failed: " << str(job, "error")
                << "; what is done is committed, run the same command again to finish\n";
      return kExitFailed;
    }
    if (state == "stopped") {
      std::cerr << "enrollctl: the job was stopped; what is done is committed, run the same "
                   "command again to finish\n";
      return kExitFailed;
    }
    return 0;
  }

  int revoke(const std::vector<std::string>& in) {
    enroll::store::CertificateSelector sel;
    Args a = parseArgs(takeSelectors(in, &sel),
                       {"--hold", "--release", "--block-devices", "--dry-run", "--no-wait"},
                       {"--reason"});
    if (!a.positional.empty()) {
      // A bare serial, as with enrolld revoke.
      for (const auto& p : a.positional) sel.serials.push_back(p);
    }
    if (sel.empty())
      throw UsageError("name at least one selector (--serial, --device, --batch, ...)");
    if (a.has("--hold") && a.has("--release")) throw UsageError("--hold or --release, not both");
    Object::Ptr body = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    body->set("selector", enroll::admin::selectorToJson(sel));
    body->set("action", a.has("--hold") ? "hold" : a.has("--release") ? "release" : "revoke");
    if (a.has("--reason")) body->set("reason", a.get("--reason"));
    if (a.has("--block-devices")) body->set("block_devices", true);
    if (a.has("--dry-run")) body->set("dry_run", true);
    std::ostringstream os;
    body->stringify(os);
    Reply r;
    if (!call("POST", "/api/v1/revocations", &r, os.str())) return exit_;
    if (a.has("--dry-run")) {
      if (printedJson(r)) return 0;
      std::cout << "dry run: " << str(r.json, "matched")
                << " certificate(s) match; nothing was changed\n";
      std::vector<std::vector<std::string>> rows;
      auto sample = r.json->getArray("sample");
      for (size_t i = 0; sample && i < sample->size(); ++i)
        rows.push_back(certificateRow(sample->getObject(static_cast<unsigned>(i))));
      if (!rows.empty())
        printTable({"SERIAL", "STATUS", "DEVICE", "LABEL", "ISSUED", "EXPIRES"}, rows);
      return 0;
    }
    std::string id = str(r.json, "id");
    if (a.has("--no-wait")) {
      if (!printedJson(r)) std::cout << "job " << id << " started\n";
      return 0;
    }
    // Follow the job until it ends, printing progress when it moves.
    std::string last;
    for (;;) {
      if (!call("GET", "/api/v1/jobs/" + id, &r)) return exit_;
      std::string now = str(r.json, "state") + str(r.json, "done");
      if (now != last) progressLine(r.json);
      last = now;
      if (str(r.json, "state") != "running") break;
      usleep(200 * 1000);
    }
    return jobOutcome(r);
  }

  int jobs(const std::vector<std::string>& in) {
    if (in.size() != 2 || (in[0] != "show" && in[0] != "stop"))
      throw UsageError("jobs show ID | stop ID");
    Reply r;
    if (!call(in[0] == "show" ? "GET" : "DELETE", "/api/v1/jobs/" + encode(in[1]), &r))
      return exit_;
    if (printedJson(r)) return 0;
    progressLine(r.json);
    if (str(r.json, "state") != "running") return jobOutcome(r);
    return 0;
  }

  int tokens(const std::vector<std::string>& in) {
    if (in.empty()) throw UsageError("tokens create | list | export | revoke");
    std::vector<std::string> rest(in.begin() + 1, in.end());
    const std::string& verb = in[0];
    if (verb == "create") {
      Args a = parseArgs(rest, {},
                         {"--label", "--count", "--device", "--batch", "--expires-days", "--out"});
      Object::Ptr body = new Object;
      body->set("label", a.get("--label", "default"));
      if (a.has("--count")) body->set("count", std::stoll(a.get("--count")));
      auto devices = a.all("--device");
      if (!devices.empty()) {
        Array::Ptr d = new Array;
        for (const auto& id : devices) d->add(id);
        body->set("devices", d);
      }
      if (a.has("--batch")) body->set("batch", a.get("--batch"));
      if (a.has("--expires-days")) body->set("expires_days", std::stoll(a.get("--expires-days")));
      std::ostringstream os;
      body->stringify(os);
      Reply r;
      if (!call("POST", "/api/v1/tokens", &r, os.str())) return exit_;
      std::string csv = "token,label,device_id,batch,expires_at\n";
      auto items = r.json->getArray("tokens");
      for (size_t i = 0; i < items->size(); ++i) {
        auto t = items->getObject(static_cast<unsigned>(i));
        csv += str(t, "token") + "," + csvField(str(t, "label")) + "," +
               csvField(str(t, "device_id")) + "," + csvField(str(t, "batch")) + "," +
               str(t, "expires_at") + "\n";
      }
      if (a.has("--out")) {
        writeNewFile(a.get("--out"), csv, 0600);
        std::cerr << "enrollctl: " << items->size() << " token(s) written to " << a.get("--out")
                  << "\n";
      } else if (!printedJson(r)) {
        std::cout << csv;
      }
      return 0;
    }
    if (verb == "list" || verb == "export") {
      Args a = parseArgs(rest, {}, {"--label", "--state", "--out"});
      std::string query = "?label=" + encode(a.get("--label"));
      if (a.has("--state")) query += "&state=" + encode(a.get("--state"));
      Reply r;
      if (!call("GET", "/api/v1/tokens" + query, &r)) return exit_;
      auto items = r.json->getArray("tokens");
      if (verb == "export") {
        std::string csv = "hash,label,device_id,batch,state,created_at,expires_at,serial\n";
        for (size_t i = 0; i < items->size(); ++i) {
          auto t = items->getObject(static_cast<unsigned>(i));
          csv += str(t, "hash") + "," + csvField(str(t, "label")) + "," +
                 csvField(str(t, "device_id")) + "," + csvField(str(t, "batch")) + "," +
                 str(t, "state") + "," + str(t, "created_at") + "," + str(t, "expires_at") + "," +
                 str(t, "serial") + "\n";
        }
        if (a.has("--out"))
          writeNewFile(a.get("--out"), csv, 0644);
        else
          std::cout << csv;
        return 0;
      }
      if (printedJson(r)) return 0;
      std::vector<std::vector<std::string>> rows;
      for (size_t i = 0; i < items->size(); ++i) {
        auto t = items->getObject(static_cast<unsigned>(i));
        rows.push_back({str(t, "hash").substr(0, 12), str(t, "label"), str(t, "device_id"),
                        str(t, "batch"), str(t, "state"), when(t, "expires_at"), str(t, "serial")});
      }
      printTable({"HASH", "LABEL", "DEVICE", "BATCH", "STATE", "EXPIRES", "SERIAL"}, rows);
      return 0;
    }
    if (verb == "revoke") {
      Args a = parseArgs(rest, {}, {});
      if (a.positional.size() != 1) throw UsageError("tokens revoke TOKEN|HASH");
      Reply r;
      if (!call("DELETE", "/api/v1/tokens/" + encode(a.positional[0]), &r)) return exit_;
      if (printedJson(r)) return 0;
      std::cout << "token revoked\n";
      return 0;
    }
    throw UsageError("tokens create | list | export | revoke");
  }

  int stations(const std::vector<std::string>& in) {
    std::string verb = in.empty() ? "list" : in[0];
    Args a = parseArgs({in.begin() + (in.empty() ? 0 : 1), in.end()}, {}, {});
    if (verb == "list") {
      Reply r;
      if (!call("GET", "/api/v1/stations", &r)) return exit_;
      if (printedJson(r)) return 0;
      std::vector<std::vector<std::string>> rows;
      auto items = r.json->getArray("stations");
      for (size_t i = 0; i < items->size(); ++i) {
        auto s = items->getObject(static_cast<unsigned>(i));
        rows.push_back({str(s, "name"), str(s, "certificate_sha256"), when(s, "created_at")});
      }
      printTable({"NAME", "CERTIFICATE SHA-256", "ADDED"}, rows);
      return 0;
    }
    if (verb == "add" && a.positional.size() == 2) {
      Object::Ptr body = new Object;
      body->set("name", a.positional[0]);
      body->set("certificate", readFile(a.positional[1]));
      std::ostringstream os;
      body->stringify(os);
      Reply r;
      if (!call("POST", "/api/v1/stations", &r, os.str())) return exit_;
      if (printedJson(r)) return 0;
      std::cout << "station " << str(r.json, "name") << " added (" << str(r.json, "subject")
                << ")\n";
      return 0;
    }
    if (verb == "remove" && a.positional.size() == 1) {
      Reply r;
      if (!call("DELETE", "/api/v1/stations/" + encode(a.positional[0]), &r)) return exit_;
      if (!json_) std::cout << "station " << a.positional[0] << " removed\n";
      return 0;
    }
    throw UsageError("stations list | add NAME CERT.pem | remove NAME");
  }

  int pending(const std::vector<std::string>& in) {
    std::string verb = in.empty() ? "list" : in[0];
    if (verb == "list") {
      Reply r;
      if (!call("GET", "/api/v1/pending", &r)) return exit_;
      if (printedJson(r)) return 0;
      std::vector<std::vector<std::string>> rows;
      auto items = r.json->getArray("pending");
      for (size_t i = 0; i < items->size(); ++i) {
        auto p = items->getObject(static_cast<unsigned>(i));
        rows.push_back({str(p, "id"), str(p, "state"), str(p, "device_id"), when(p, "created_at")});
      }
      printTable({"ID", "STATE", "DEVICE", "SINCE"}, rows);
      return 0;
    }
    if ((verb == "approve" || verb == "reject") && in.size() == 2) {
      Reply r;
      if (!call("POST", "/api/v1/pending/" + encode(in[1]) + "/" + verb, &r)) return exit_;
      if (printedJson(r)) return 0;
      std::cout << in[1] << " " << str(r.json, "state") << "\n";
      return 0;
    }
    throw UsageError("pending list | approve ID | reject ID");
  }

  int operators(const std::vector<std::string>& in) {
    std::string verb = in.empty() ? "list" : in[0];
    Args a = parseArgs({in.begin() + (in.empty() ? 0 : 1), in.end()}, {}, {"--role", "--out"});
    if (verb == "list") {
      Reply r;
      if (!call("GET", "/api/v1/operators", &r)) return exit_;
      if (printedJson(r)) return 0;
      std::vector<std::vector<std::string>> rows;
      auto items = r.json->getArray("operators");
      for (size_t i = 0; i < items->size(); ++i) {
        auto o = items->getObject(static_cast<unsigned>(i));
        rows.push_back({str(o, "name"), str(o, "role"), str(o, "certificate_sha256").substr(0, 16),
                        when(o, "created_at")});
      }
      printTable({"NAME", "ROLE", "CERTIFICATE", "ADDED"}, rows);
      return 0;
    }
    if (verb == "add" && a.positional.size() == 1 && a.has("--role") && a.has("--out")) {
      // The key is made here and never leaves this machine; enrolld signs a CSR for it.
      auto key = enroll::pki::PrivateKey::generate(enroll::pki::KeyType::kEcP256);
      if (!key) throw std::runtime_error(key.error().toString());
      auto csr = enroll::pki::CertificateRequest::create(*key, "CN=" + a.positional[0]);
      if (!csr) throw std::runtime_error(csr.error().toString());
      Object::Ptr body = new Object;
      body->set("name", a.positional[0]);
      body->set("role", a.get("--role"));
      body->set("csr", csr->toPem());
      std::ostringstream os;
      body->stringify(os);
      std::string prefix = a.get("--out");
      if (access((prefix + ".key").c_str(), F_OK) == 0 ||
          access((prefix + ".pem").c_str(), F_OK) == 0)
        throw std::runtime_error(prefix + ".key or " + prefix + ".pem exists already");
      Reply r;
      if (!call("POST", "/api/v1/operators", &r, os.str())) return exit_;
      writeNewFile(prefix + ".key", key->toPem().reveal(), 0600);
      writeNewFile(prefix + ".pem", str(r.json, "certificate"), 0644);
      if (printedJson(r)) return 0;
      std::cout << "operator " << a.positional[0] << " (" << a.get("--role") << "): " << prefix
                << ".pem, " << prefix << ".key\n";
      return 0;
    }
    if (verb == "remove" && a.positional.size() == 1) {
      Reply r;
      if (!call("DELETE", "/api/v1/operators/" + encode(a.positional[0]), &r)) return exit_;
      if (!json_) std::cout << "operator " << a.positional[0] << " removed\n";
      return 0;
    }
    throw UsageError("operators list | add NAME --role R --out PREFIX | remove NAME");
  }

  /** Fetches audit entries after seq, one page. */
  bool auditPage(int64_t after, int limit, std::vector<enroll::store::AuditEntry>* out) {
    Reply r;
    if (!call("GET",
              "/api/v1/audit?after=" + std::to_string(after) + "&limit=" + std::to_string(limit),
              &r))
      return false;
    out->clear();
    auto items = r.json->getArray("entries");
    for (size_t i = 0; i < items->size(); ++i) {
      auto e = items->getObject(static_cast<unsigned>(i));
      enroll::store::AuditEntry a;
      a.seq = e->getValue<Poco::Int64>("seq");
      a.at = e->getValue<Poco::Int64>("at");
      a.actor = str(e, "actor");
      a.action = str(e, "action");
      a.target = str(e, "target");
      a.outcome = str(e, "outcome");
      a.detail = str(e, "detail");
      a.prev_hash = str(e, "prev_hash");
      a.hash = str(e, "hash");
      out->push_back(std::move(a));
    }
    return true;
  }

  int audit(const std::vector<std::string>& in) {
    std::string verb = in.empty() ? "list" : in[0];
    Args a = parseArgs({in.begin() + (in.empty() ? 0 : 1), in.end()}, {},
                       {"--after", "--limit", "--state"});
    if (verb == "list") {
      std::vector<enroll::store::AuditEntry> entries;
      Reply r;
      if (!call("GET",
                "/api/v1/audit?after=" + encode(a.get("--after", "0")) +
                    "&limit=" + encode(a.get("--limit", "100")),
                &r))
        return exit_;
      if (printedJson(r)) return 0;
      auto items = r.json->getArray("entries");
      std::vector<std::vector<std::string>> rows;
      for (size_t i = 0; i < items->size(); ++i) {
        auto e = items->getObject(static_cast<unsigned>(i));
        rows.push_back({str(e, "seq"), when(e, "at"), str(e, "actor"), str(e, "action"),
                        str(e, "target"), str(e, "outcome")});
      }
      printTable({"SEQ", "WHEN", "ACTOR", "ACTION", "TARGET", "OUTCOME"}, rows);
      return 0;
    }
    if (verb == "verify") {
      // Read the state of an earlier run: the seq and hash verified then must still be there.
      int64_t known_seq = 0;
      std::string known_hash;
      if (a.has("--state") && access(a.get("--state").c_str(), F_OK) == 0) {
        std::istringstream st(readFile(a.get("--state")));
        st >> known_seq >> known_hash;
      }
      enroll::store::AuditChainVerifier verifier;
      std::vector<enroll::store::AuditEntry> page;
      std::string known_seen;
      bool broken = false;
      for (;;) {
        if (!auditPage(verifier.lastSeq(), 10000, &page)) return exit_;
        for (const auto& e : page) {
          if (!verifier.add(e)) {
            broken = true;
            break;
          }
          if (e.seq == known_seq) known_seen = e.hash;
        }
        if (broken || page.size() < 10000) break;
        if (!json_) std::cerr << "enrollctl: " << verifier.lastSeq() << " entries checked...\r";
      }
      std::string problem;
      if (broken)
        problem = verifier.reason();
      else if (known_seq > verifier.lastSeq())
        problem = "the log ends at entry " + std::to_string(verifier.lastSeq()) + " but entry " +
                  std::to_string(known_seq) + " was verified before: entries were deleted";
      else if (known_seq > 0 && known_seen != known_hash)
        problem = "entry " + std::to_string(known_seq) + " differs from when it was verified";
      if (json_) {
        Object::Ptr o = new Object;
        o->set("ok", problem.empty());
        o->set("entries", static_cast<Poco::Int64>(verifier.lastSeq()));
        o->set("head", verifier.lastHash());
        if (!problem.empty()) o->set("problem", problem);
        o->stringify(std::cout);
        std::cout << "\n";
      } else if (problem.empty()) {
        std::cout << "audit log verified: " << verifier.lastSeq() << " entries, head "
                  << verifier.lastHash() << "\n";
      } else {
        std::cout << "audit log does NOT verify: " << problem << "\n";
      }
      if (!problem.empty()) return kExitAuditBroken;
      if (a.has("--state")) {
        std::string tmp = a.get("--state") + ".tmp";
        std::ofstream out(tmp, std::ios::trunc);
        out << verifier.lastSeq() << " " << verifier.lastHash() << "\n";
        out.close();
        if (!out || std::rename(tmp.c_str(), a.get("--state").c_str()) != 0)
          throw std::runtime_error("cannot write " + a.get("--state"));
      }
      return 0;
    }
    throw UsageError("audit list | verify");
  }

  AdminClient& client_;
  bool json_;
  int exit_ = kExitFailed;
};

/** Fills connection defaults from an enrolld data folder on this host. */
void fromDataFolder(const std::string& dir, Connection* c) {
  c->certificate = dir + "/admin/admin.pem";
  c->key = dir + "/admin/admin.key";
  c->ca = dir + "/ca/root-ca.pem";
  try {
    Poco::JSON::Parser parser;
    auto root = parser.parse(readFile(dir + "/enrolld.json")).extract<Object::Ptr>();
    auto listen = root->getObject("listen");
    std::string addr = listen ? str(listen, "admin") : "";
    if (!addr.empty()) {
      if (addr.rfind("0.0.0.0:", 0) == 0) addr = "127.0.0.1:" + addr.substr(8);
      c->server = "https://" + addr;
    }
  } catch (const std::exception& e) {
    throw UsageError("--dir " + dir + ": cannot read enrolld.json: " + e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  Connection conn;
  if (const char* v = std::getenv("ENROLLCTL_SERVER")) conn.server = v;
  if (const char* v = std::getenv("ENROLLCTL_CERT")) conn.certificate = v;
  if (const char* v = std::getenv("ENROLLCTL_KEY")) conn.key = v;
  if (const char* v = std::getenv("ENROLLCTL_CACERT")) conn.ca = v;
  bool json = false;
  std::vector<std::string> command;
  try {
    std::string server_flag;
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string& a = args[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= args.size()) throw UsageError(a + " needs a value");
        return args[++i];
      };
      if (a == "--json") {
        json = true;  // accepted before or after the command
      } else if (!command.empty()) {
        command.push_back(a);
      } else if (a == "--help" || a == "-h") {
        std::string usage = kUsage;
        usage.replace(usage.find("%SELECTORS%"), 11, enroll::admin::kSelectorFlagsUsage);
        std::cout << usage;
        return 0;
      } else if (a == "--server") {
        server_flag = value();
      } else if (a == "--cert") {
        conn.certificate = value();
      } else if (a == "--key") {
        conn.key = value();
      } else if (a == "--cacert") {
        conn.ca = value();
      } else if (a == "--dir") {
        fromDataFolder(value(), &conn);
      } else if (a.rfind("--", 0) == 0) {
        throw UsageError("unknown option " + a);
      } else {
        command.push_back(a);
      }
    }
    if (!server_flag.empty()) conn.server = server_flag;
    if (command.empty()) throw UsageError("no command given");
    if (conn.certificate.empty() || conn.key.empty())
      throw UsageError("an operator certificate and key are needed (--cert/--key or --dir)");
    AdminClient client(conn);
    Cli cli(client, json);
    return cli.run(command[0], {command.begin() + 1, command.end()});
  } catch (const UsageError& e) {
    std::cerr << "enrollctl: " << e.what() << "\n(run enrollctl --help)\n";
    return kExitUsage;
  } catch (const enroll::enrollctl::ConnectionError& e) {
    std::cerr << "enrollctl: " << e.what() << "\n";
    return kExitConnection;
  } catch (const std::invalid_argument& e) {
    std::cerr << "enrollctl: a number was expected (" << e.what() << ")\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "enrollctl: " << e.what() << "\n";
    return kExitFailed;
  }
}

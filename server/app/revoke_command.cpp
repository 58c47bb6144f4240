#include "server/app/revoke_command.h"

#include <csignal>
#include <ctime>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include "pki/clock.h"
#include "server/app/config.h"
#include "server/ca/revocation_service.h"

namespace enroll::app {

const char* const kRevokeUsage =
    R"(  enrolld revoke DIR [SERIAL] [selectors] [--reason R | --hold | --release]
                 [--block-devices] [--dry-run]
                                 revoke, hold or release every certificate the selectors match
                                 (all must match); runs in committed chunks with progress on
                                 stderr, safe to interrupt (Ctrl-C) and to run again
      --serial HEX               a certificate serial (repeatable; SERIAL alone does the same)
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
      --reason R                 RFC 5280 reason name or code: unspecified (default),
                                 keyCompromise, cACompromise, affiliationChanged, superseded,
                                 cessationOfOperation, privilegeWithdrawn, aACompromise
      --hold                     certificateHold instead of revoking; --release lifts a hold
      --block-devices            also set the devices to blocked (no enrollment, no renewal)
      --dry-run                  print the count and a sample; change nothing
)";

namespace {

volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void onInterrupt(int /*sig*/) { g_interrupted = 1; }

/** Seconds since the epoch from "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SS[Z]" or digits. */
std::time_t parseTime(const std::string& flag, const std::string& text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos)
    return static_cast<std::time_t>(std::stoll(text));
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end) {
    tm = {};
    end = strptime(text.c_str(), "%Y-%m-%d", &tm);
  }
  if (!end || !(*end == '\0' || (end[0] == 'Z' && end[1] == '\0')))
    throw std::invalid_argument(flag + ": '" + text + "' is not YYYY-MM-DD[THH:MM:SSZ] or seconds");
  return timegm(&tm);
}

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

int usage(const std::string& message) {
  std::cerr << "enrolld revoke: " << message << "\n(run enrolld --help)\n";
  return 2;
}

std::string isoTime(std::time_t t) {
  char buf[32];
  std::tm tm{};
  gmtime_r(&t, &tm);
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

int runRevokeCommand(const std::vector<std::string>& args) {
  if (args.empty()) return usage("usage: enrolld revoke DIR [SERIAL] [selectors] [--reason R]");
  ca::RevocationRequest request;
  auto& sel = request.selector;
  bool single_serial = false;
  int64_t chunk = 50000;
  try {
    for (size_t i = 1; i < args.size(); ++i) {
      const std::string& a = args[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= args.size()) throw std::invalid_argument(a + " needs a value");
        return args[++i];
      };
      if (i == 1 && !a.empty() && a[0] != '-') {
        sel.serials.push_back(a);
        single_serial = true;
      } else if (a == "--serial") {
        sel.serials.push_back(value());
      } else if (a == "--device") {
        sel.device_ids.push_back(value());
      } else if (a == "--serials-file") {
        for (auto& s : readLines(value())) sel.serials.push_back(std::move(s));
      } else if (a == "--devices-file") {
        for (auto& d : readLines(value())) sel.device_ids.push_back(std::move(d));
      } else if (a == "--model") {
        sel.model = value();
      } else if (a == "--batch") {
        sel.batch = value();
      } else if (a == "--product-line") {
        sel.product_line = value();
      } else if (a == "--device-label") {
        std::string kv = value();
        size_t eq = kv.find('=');
        if (eq == std::string::npos || eq == 0)
          throw std::invalid_argument("--device-label needs KEY=VALUE");
        sel.device_labels[kv.substr(0, eq)] = kv.substr(eq + 1);
      } else if (a == "--label") {
        sel.label = value();
      } else if (a == "--bootstrap-ca") {
        sel.bootstrap_ca = value();
        for (auto& c : sel.bootstrap_ca) c = static_cast<char>(std::tolower(c));
        std::erase(sel.bootstrap_ca, ':');
      } else if (a == "--station") {
        sel.station = value();
      } else if (a == "--issued-from") {
        sel.issued_from = parseTime(a, value());
      } else if (a == "--issued-to") {
        sel.issued_to = parseTime(a, value());
      } else if (a == "--expiring-before") {
        sel.expiring_before = parseTime(a, value());
      } else if (a == "--status") {
        std::string s = value();
        if (s != "good" && s != "revoked" && s != "hold")
          throw std::invalid_argument("--status is good, revoked or hold");
        sel.status = store::parseCertStatus(s);
      } else if (a == "--reason") {
        auto reason = ca::parseCrlReason(value());
        if (!reason) throw std::invalid_argument(reason.error().message);
        request.reason = *reason;
        if (request.reason == 6) request.action = ca::RevocationAction::kHold;
        if (request.reason == 8) request.action = ca::RevocationAction::kRelease;
      } else if (a == "--hold") {
        request.action = ca::RevocationAction::kHold;
      } else if (a == "--release") {
        request.action = ca::RevocationAction::kRelease;
      } else if (a == "--block-devices") {
        request.block_devices = true;
      } else if (a == "--dry-run") {
        request.dry_run = true;
      } else if (a == "--chunk-size") {
        chunk = std::stoll(value());
        if (chunk < 1) throw std::invalid_argument("--chunk-size must be positive");
      } else {
        throw std::invalid_argument("unknown option " + a);
      }
    }
  } catch (const std::invalid_argument& e) {
    return usage(e.what());
  } catch (const std::exception& e) {
    std::cerr << "enrolld revoke: " << e.what() << "\n";
    return 1;
  }
  if (request.action != ca::RevocationAction::kRevoke) request.reason = 0;
  if (sel.empty())
    return usage("name at least one selector (a serial, --device, --batch, ...); see --help");

  std::unique_ptr<store::Store> store;
  try {
    auto config = loadConfig(args[0]);
    auto opened = openStore(config);
    if (!opened) throw std::runtime_error(opened.error().toString());
    store = std::move(opened).value();
  } catch (const std::exception& e) {
    std::cerr << "enrolld revoke: " << e.what() << "\n";
    return 1;
  }
  pki::SystemClock clock;
  ca::RevocationService service(*store, clock, chunk);
  const char* verb = request.action == ca::RevocationAction::kHold      ? "held"
                     : request.action == ca::RevocationAction::kRelease ? "released"
                                                                        : "revoked";
  g_interrupted = 0;
  auto previous_int = std::signal(SIGINT, onInterrupt);
  auto previous_term = std::signal(SIGTERM, onInterrupt);
  auto report = service.run(request, [&](int64_t done, int64_t total) {
    if (!request.dry_run && total > 0) {
      std::cerr << "enrolld revoke: " << verb << " " << done << "/" << total << " ("
                << (100 * done / total) << "%)\n";
    }
    return g_interrupted == 0;
  });
  std::signal(SIGINT, previous_int);
  std::signal(SIGTERM, previous_term);
  if (!report) {
    std::cerr << "enrolld revoke: " << report.error().message
              << (report.error().detail.empty() ? "" : " (" + report.error().detail + ")") << "\n";
    return 1;
  }
  if (single_serial && sel.serials.size() == 1 && report->matched == 0) {
    std::cerr << "enrolld revoke: no certificate with serial " << sel.serials[0] << "\n";
    return 1;
  }
  if (request.dry_run) {
    std::cout << "enrolld: dry run: " << report->matched
              << " certificate(s) match; nothing was changed\n";
    for (const auto& c : report->sample) {
      std::cout << "  " << c.serial << "  " << store::certStatusName(c.status) << "  "
                << c.device_id << "  " << c.subject << "  issued " << isoTime(c.issued_at) << "\n";
    }
    if (report->matched > static_cast<int64_t>(report->sample.size()))
      std::cout << "  ... and " << report->matched - static_cast<int64_t>(report->sample.size())
                << " more\n";
    return 0;
  }
  if (single_serial && sel.serials.size() == 1 && report->completed) {
    std::cout << "enrolld: certificate " << report->sample.front().serial << " is now "
              << (request.action == ca::RevocationAction::kHold      ? "hold"
                  : request.action == ca::RevocationAction::kRelease ? "good"
                                                                     : "revoked")
              << (report->changed == 0 ? " (unchanged)" : "") << "\n";
  } else {
    std::cout << "enrolld: " << report->matched << " certificate(s) matched, " << report->changed
              << " " << verb << ", " << report->devices_blocked << " device(s) blocked\n";
  }
  if (!report->completed) {
    std::cerr << "enrolld revoke: interrupted; what is done is committed, run the same command "
                 "again to finish\n";
    return 130;
  }
  return 0;
}

}  // namespace enroll::app

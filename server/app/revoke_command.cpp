#include "server/app/revoke_command.h"

#include <csignal>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "pki/clock.h"
#include "server/admin/revocation_jobs.h"
#include "server/admin/selector_codec.h"
#include "server/app/config.h"
#include "server/app/offline_audit.h"
#include "server/ca/revocation_service.h"

namespace enroll::app {

const char* const kRevokeUsage =
    R"(  enrolld revoke DIR [SERIAL] [selectors] [--reason R | --hold | --release]
                 [--block-devices] [--dry-run]
                                 revoke, hold or release every certificate the selectors match
                                 (all must match); runs in committed chunks with progress on
                                 stderr, safe to interrupt (Ctrl-C) and to run again
%SELECTORS%      --reason R                 RFC 5280 reason name or code: unspecified (default),
                                 keyCompromise, cACompromise, affiliationChanged, superseded,
                                 cessationOfOperation, privilegeWithdrawn, aACompromise
      --hold                     certificateHold instead of revoking; --release lifts a hold
      --block-devices            also set the devices to blocked (no enrollment, no renewal);
                                 device-only selectors block every matching registry device
      --dry-run                  print the count and a sample; change nothing
)";

namespace {

volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void onInterrupt(int /*sig*/) { g_interrupted = 1; }

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
      } else if (admin::applySelectorFlag(a, value, &sel)) {
        continue;
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
  if (!request.dry_run) {
    Poco::JSON::Object::Ptr detail = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    detail->set("selector", admin::selectorToJson(sel));
    detail->set("reason", ca::crlReasonName(request.reason));
    detail->set("block_devices", request.block_devices);
    if (report) {
      detail->set("matched", static_cast<Poco::Int64>(report->matched));
      detail->set("changed", static_cast<Poco::Int64>(report->changed));
      detail->set("devices_blocked", static_cast<Poco::Int64>(report->devices_blocked));
    }
    std::ostringstream json;
    detail->stringify(json);
    auditOffline(*store, "revocation." + admin::revocationActionName(request.action),
                 sel.serials.size() == 1 ? sel.serials[0] : "selector",
                 !report             ? std::string(pki::errorCodeName(report.error().code))
                 : report->completed ? "done"
                                     : "stopped",
                 json.str());
  }
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

// coaps_load: EST-coaps (RFC 9148) enrollments per second against enrolld, with libcoap's client
// API over DTLS 1.2 (the client setup is shared with the wire tests: tests/support/coaps_client.h).
//   fresh:   each enrollment opens a new DTLS session (full handshake with the bootstrap
//            certificate), POSTs /est/sen and releases the session: a device enrolling once;
//   session: each of the C clients keeps one DTLS session and sends enrollment after enrollment
//            over it: a factory station.
// C clients run at once, all in one thread over one libcoap context (one request in flight per
// client). Each enrollment is POST /est/sen with its own P-256 CSR (made before timing starts) and
// Accept 287; it counts when the answer is 2.04 with a body. Not part of enrolld. Usage:
//   coaps_load --port P --cert boot.pem --key boot.key [--mode fresh|session] [-c C]
//              [-n N] [-t SECONDS] [--server-pid PID]
// The last line is "RESULT key=value ..." for bench/run-coaps-bench.sh.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/coaps_client.h"

namespace {

namespace cc = enroll::coaps_client;
using Clock = std::chrono::steady_clock;

struct Slot {
  coap_session_t* session = nullptr;
  bool waiting = false;   ///< a request is out
  bool finished = false;  ///< its answer (or an error) arrived; the main loop moves on
  int code = 0;
  Clock::time_point start;
};

struct State {
  std::vector<Slot> slots;
  int ok = 0;
  int answered = 0;
  std::vector<int> bad_codes;  ///< codes other than 2.04, as class * 100 + detail
  int session_errors = 0;
};

State* g_state = nullptr;

Slot* slotOf(coap_session_t* session) {
  auto i = reinterpret_cast<uintptr_t>(coap_session_get_app_data(session));
  if (i == 0 || i > g_state->slots.size()) return nullptr;
  return &g_state->slots[i - 1];
}

coap_response_t onResponse(coap_session_t* session, const coap_pdu_t* /*sent*/,
                           const coap_pdu_t* received, const coap_mid_t /*mid*/) {
  Slot* s = slotOf(session);
  if (s == nullptr || !s->waiting) return COAP_RESPONSE_OK;
  s->code = cc::codeOf(received);
  s->waiting = false;
  s->finished = true;
  return COAP_RESPONSE_OK;
}

int onEvent(coap_session_t* session, const coap_event_t event) {
  if (event != COAP_EVENT_DTLS_ERROR && event != COAP_EVENT_DTLS_CLOSED &&
      event != COAP_EVENT_SESSION_FAILED)
    return 0;
  Slot* s = slotOf(session);
  if (s != nullptr && s->waiting) {
    s->code = -1;
    s->waiting = false;
    s->finished = true;
  }
  return 0;
}

double cpuSecondsOf(int pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::atof(field.c_str());  // utime, stime
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

/** CPU seconds all cores spent busy since boot (/proc/stat: user nice system irq softirq steal). */
double machineBusySeconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  double v[8] = {};
  in >> cpu >> v[0] >> v[1] >> v[2] >> v[3] >> v[4] >> v[5] >> v[6] >> v[7];
  return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double ownCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0, n = 0, c = 1, server_pid = 0;
  double seconds = 0;
  std::string cert, key, mode = "fresh";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--port")
      port = std::atoi(v.c_str());
    else if (a == "--cert")
      cert = v;
    else if (a == "--key")
      key = v;
    else if (a == "--mode")
      mode = v;
    else if (a == "-n")
      n = std::atoi(v.c_str());
    else if (a == "-c")
      c = std::max(1, std::atoi(v.c_str()));
    else if (a == "-t")
      seconds = std::atof(v.c_str());
    else if (a == "--server-pid")
      server_pid = std::atoi(v.c_str());
  }
  if (port == 0 || cert.empty() || key.empty() || (mode != "fresh" && mode != "session")) {
    std::fprintf(stderr,
                 "usage: coaps_load --port P --cert F --key F [--mode fresh|session] [-c C] [-n N] "
                 "[-t SECONDS] [--server-pid PID]\n");
    return 2;
  }
  // With only -t: enough CSRs for 2,000 enrollments/s (every enrollment has its own key).
  if (n <= 0) n = seconds > 0 ? static_cast<int>(seconds * 2000) : 200;
  cc::startLibcoap();
  std::vector<std::vector<uint8_t>> csrs;
  csrs.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) csrs.push_back(cc::makeCsr("BENCH-" + std::to_string(i)));

  const cc::Identity identity = cc::loadIdentity(cert, key);
  if (!identity.ok()) {
    std::fprintf(stderr, "cannot read %s / %s\n", cert.c_str(), key.c_str());
    return 2;
  }
  State st;
  g_state = &st;
  st.slots.resize(static_cast<size_t>(c));
  coap_context_t* ctx = coap_new_context(nullptr);
  coap_register_response_handler(ctx, onResponse);
  coap_register_event_handler(ctx, onEvent);

  auto open = [&](size_t i) {
    Slot& s = st.slots[i];
    s.session = cc::openSession(ctx, port, identity);
    if (s.session != nullptr)
      coap_session_set_app_data(s.session, reinterpret_cast<void*>(i + 1));  // NOLINT
  };
  int next = 0;
  uint32_t token = 1;
  auto send = [&](size_t i) {
    Slot& s = st.slots[i];
    if (s.session == nullptr) open(i);
    if (s.session == nullptr) return false;
    std::vector<uint8_t> tok = {static_cast<uint8_t>(token >> 24),
                                static_cast<uint8_t>(token >> 16), static_cast<uint8_t>(token >> 8),
                                static_cast<uint8_t>(token)};
    ++token;
    coap_pdu_t* pdu =
        cc::makeRequest(s.session, COAP_REQUEST_CODE_POST, coap_new_message_id(s.session), tok,
                        "est/sen", {286, 287, -1, -1}, csrs[static_cast<size_t>(next++)]);
    s.waiting = true;
    s.finished = false;
    s.start = Clock::now();
    return coap_send(s.session, pdu) != COAP_INVALID_MID;
  };

  std::vector<double> latencies;
  const double server_cpu0 = cpuSecondsOf(server_pid);
  const double client_cpu0 = ownCpuSeconds();
  const double busy0 = machineBusySeconds();
  const auto t0 = Clock::now();
  const auto stop_at =
      seconds > 0
          ? t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds))
          : Clock::time_point::max();
  for (size_t i = 0; i < st.slots.size() && next < n; ++i) send(i);
  for (;;) {
    bool any_waiting = false;
    const auto now = Clock::now();
    for (size_t i = 0; i < st.slots.size(); ++i) {
      Slot& s = st.slots[i];
      if (s.waiting && now - s.start > std::chrono::seconds(10)) {
        s.code = -2;  // no answer in time
        s.waiting = false;
        s.finished = true;
      }
      if (s.finished) {
        s.finished = false;
        ++st.answered;
        latencies.push_back(std::chrono::duration<double, std::milli>(now - s.start).count());
        if (s.code == 204) {
          ++st.ok;
        } else {
          st.bad_codes.push_back(s.code);
          if (s.code < 0) ++st.session_errors;
        }
        // fresh: every enrollment on a new session; session: keep it unless it failed.
        if (mode == "fresh" || s.code < 0) {
          if (s.session != nullptr) coap_session_release(s.session);
          s.session = nullptr;
        }
        if (next < n && now < stop_at) send(i);
      }
      any_waiting = any_waiting || s.waiting;
    }
    if (!any_waiting) break;
    coap_io_process(ctx, 5);
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const double server_cpu = cpuSecondsOf(server_pid) - server_cpu0;
  const double client_cpu = ownCpuSeconds() - client_cpu0;
  // Cores other processes took during the row: everything busy minus the server and us.
  const double other_cores =
      (machineBusySeconds() - busy0 - client_cpu - (server_pid > 0 ? server_cpu : 0)) / secs;
  for (auto& s : st.slots)
    if (s.session != nullptr) coap_session_release(s.session);
  coap_free_context(ctx);

  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies.empty() ? 0.0 : latencies[static_cast<size_t>(p * (latencies.size() - 1))];
  };
  std::string codes;
  std::sort(st.bad_codes.begin(), st.bad_codes.end());
  for (size_t i = 0; i < st.bad_codes.size();) {
    size_t j = i;
    while (j < st.bad_codes.size() && st.bad_codes[j] == st.bad_codes[i]) ++j;
    int code = st.bad_codes[i];
    std::string name = code == -1   ? "session-failed"
                       : code == -2 ? "timeout"
                                    : std::to_string(code / 100) + "." +
                                          (code % 100 < 10 ? "0" : "") + std::to_string(code % 100);
    codes += (codes.empty() ? "" : ",") + name + ":" + std::to_string(j - i);
    i = j;
  }
  const double per_enrollment = st.ok > 0 ? 1000.0 / st.ok : 0;
  std::printf("  %s mode, C=%d: %d enrollments in %.2f s, %d answered otherwise (%s)\n",
              mode.c_str(), c, st.ok, secs, st.answered - st.ok,
              codes.empty() ? "none" : codes.c_str());
  std::printf(
      "RESULT mode=%s c=%d ok=%d errors=%s seconds=%.2f rate=%.1f p50_ms=%.2f p99_ms=%.2f "
      "server_cpu_ms=%.3f client_cpu_ms=%.3f other_cores=%.2f\n",
      mode.c_str(), c, st.ok, codes.empty() ? "none" : codes.c_str(), secs, st.ok / secs, pct(0.5),
      pct(0.99), server_pid > 0 ? server_cpu * per_enrollment : 0.0, client_cpu * per_enrollment,
      other_cores);
  return st.ok == st.answered && st.ok > 0 ? 0 : 1;
}

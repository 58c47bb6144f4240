// revocation_bench: bulk revocation and CRL publishing at fleet scale, against the real store
// and the real services of enrolld (not part of enrolld; see docs/benchmarks.md).
//
//   revocation_bench DIR [--count N] [--batches B] [--ocsp-requests K] [--chunk-size C]
//                        [--bulk-delta 1]
//
// DIR is a folder made by `enrolld init`. The tool
//  1. populates its store with N certificates of the CA "issuing" (one device each, spread over B
//     registry batches; rows written directly in 100,000-row transactions), unless the store
//     already holds at least N;
//  2. revokes all of them by a registry selector (product line) with RevocationService, then
//     again (the idempotent repeat);
//  3. publishes the full and delta CRLs with CrlPublisher (with --bulk-delta 1, an empty base CRL
//     is published before the revocation, so the first delta after it lists every certificate,
//     and the delta and the full CRL are timed apart), writes the full CRL to
//     DIR/bench-full.crl, and reports times, sizes and the peak memory of publishing;
//  4. adds two good certificates, starts the publisher's background threads (default poll
//     interval) and revokes them one by one, the second as soon as the first is in a delta CRL
//     (while the full CRL of the first is still being made): for each, the time from the commit
//     to a delta CRL that lists it being served, and to the full CRL;
//  5. writes K OCSP GET paths for random certificates (a wrk Lua script) to DIR/ocsp-paths.lua.
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <openssl/ocsp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "pki/clock.h"
#include "server/app/config.h"
#include "server/ca/crl_publisher.h"
#include "server/ca/revocation_service.h"

namespace {

using Clock = std::chrono::steady_clock;
using Poco::Int64;
using namespace Poco::Data::Keywords;

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

/** A /proc/self/status figure in MB (VmHWM: peak resident set, VmRSS: resident set). */
double procStatusMb(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::atof(line.c_str() + key.size() + 1) / 1024.0;
  }
  return -1;
}

/** Resets VmHWM to the current resident set (Linux 4.0+), so the next peak is one phase's. */
void resetPeakRss() { std::ofstream("/proc/self/clear_refs") << "5"; }

std::string urlEncode(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '+')
      out += "%2B";
    else if (c == '/')
      out += "%2F";
    else if (c == '=')
      out += "%3D";
    else
      out += c;
  }
  return out;
}

/** Inserts certificates (and their devices) numbered [from, to) in one transaction. */
void insertRange(Poco::Data::Session& s, long from, long to, long batches,
                 const std::string& issuer, const std::vector<uint8_t>& der,
                 std::vector<std::string>* sample_serials, std::mt19937_64& rng) {
  auto n = static_cast<size_t>(to - from);
  std::vector<std::string> serial(n), device(n), batch(n), subject(n);
  std::vector<Int64> issued(n), not_after(n);
  Int64 now = std::time(nullptr);
  for (size_t i = 0; i < n; ++i) {
    long k = from + static_cast<long>(i);
    char id[32];
    snprintf(id, sizeof id, "BENCH-%07ld", k);
    device[i] = id;
    subject[i] = std::string("CN=") + id;
    char b[32];
    snprintf(b, sizeof b, "B%02ld", k % batches);
    batch[i] = b;
    // 127-bit random serial like enrolld's, lower-case hex without leading zeros.
    uint64_t hi = rng() >> 1, lo = rng();
    char hex[40];
    snprintf(hex, sizeof hex, "%lx%016lx", static_cast<unsigned long>(hi),
             static_cast<unsigned long>(lo));
    serial[i] = hex;
    issued[i] = now - 86400 + k % 86400;
    not_after[i] = now + 365L * 86400;
    if (sample_serials && (rng() % 1000) == 0) sample_serials->push_back(serial[i]);
  }
  Poco::Data::BLOB blob(der.data(), der.size());
  std::vector<Poco::Data::BLOB> blobs(n, blob);
  std::vector<std::string> issuers(n, issuer);
  s.begin();
  Poco::Data::Statement devices(s);
  devices << "INSERT INTO devices (id, model, batch, product_line, labels, bootstrap_fingerprint,"
             " ek_hash, state, enroll_count, created_at, updated_at) VALUES (?, 'M1', ?, 'PL1',"
             " '{\"site\":\"s1\"}', '', '', 'enrolled', 1, ?, ?)",
      use(device), use(batch), use(issued), use(issued);
  size_t added = devices.execute();
  Poco::Data::Statement certs(s);
  certs << "INSERT INTO certificates (serial, issuer, device_id, label, profile, protocol, subject,"
           " not_before, not_after, issued_at, status, revoked_at, revocation_reason,"
           " public_key_sha256, bootstrap_fingerprint, station, der, bootstrap_ca, status_revision)"
           " VALUES (?, ?, ?, '', 'device', 'est', ?, ?, ?, ?, 'good', 0, 0, '', '', '', ?, '', 0)",
      use(serial), use(issuers), use(device), use(subject), use(issued), use(not_after),
      use(issued), use(blobs);
  added += certs.execute();
  if (added != 2 * n) throw std::runtime_error("insert wrote " + std::to_string(added) + " rows");
  s.commit();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: revocation_bench DIR [--count N] [--batches B] [--ocsp-requests K]"
                 " [--chunk-size C] [--bulk-delta 1]\n";
    return 2;
  }
  std::string dir = argv[1];
  long count = 1000000, batches = 10, ocsp_requests = 1000, chunk = 50000, bulk_delta = 0;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    long v = std::atol(argv[i + 1]);
    if (a == "--count")
      count = v;
    else if (a == "--batches")
      batches = v;
    else if (a == "--ocsp-requests")
      ocsp_requests = v;
    else if (a == "--bulk-delta")
      bulk_delta = v;
    else if (a == "--chunk-size")
      chunk = v;
    else {
      std::cerr << "unknown option " << a << "\n";
      return 2;
    }
  }
  try {
    auto config = enroll::app::loadConfig(dir);
    auto loaded = enroll::app::loadPki(config);
    auto authority = loaded.cas.at("issuing");
    auto opened = enroll::app::openStore(config);
    if (!opened) throw std::runtime_error(opened.error().toString());
    auto& store = **opened;
    std::string db = config.path(config.database_path);

    // 1. Populate.
    enroll::store::CertificateSelector all;
    all.product_line = "PL1";
    auto have = store.countCertificates(all);
    if (!have) throw std::runtime_error(have.error().toString());
    std::vector<std::string> sample;
    std::mt19937_64 rng(42);
    if (*have < count) {
      Poco::Data::SQLite::Connector::registerConnector();
      Poco::Data::Session s("SQLite", db);
      s << "PRAGMA synchronous = NORMAL", now;
      auto der = authority->certificate().toDer();  // a realistic size for the der column
      auto t = Clock::now();
      for (long from = *have; from < count; from += 100000) {
        insertRange(s, from, std::min(count, from + 100000), batches, "issuing", der, &sample, rng);
        std::cerr << "populated " << std::min(count, from + 100000) << "/" << count << "\r";
      }
      std::cerr << "\n";
      printf("populate            %8ld certificates in %7.2f s\n", count - *have, secondsSince(t));
    }
    if (sample.empty()) {
      auto some = store.listCertificates(all, 1000, "");
      if (some)
        for (const auto& c : *some) sample.push_back(c.serial);
    }

    enroll::ca::CrlSettings settings;
    settings.base_url = config.publish.base_url;
    enroll::pki::SystemClock clock;
    enroll::ca::CrlPublisher publisher({authority}, store, clock, settings);
    if (bulk_delta != 0) {
      auto base = publisher.refresh();  // the base the bulk delta refers to
      if (!base) throw std::runtime_error(base.error().toString());
    }

    // 2. Revoke by selector, then repeat.
    enroll::ca::RevocationService service(store, clock, chunk);
    enroll::ca::RevocationRequest request;
    request.selector = all;
    request.reason = 5;  // cessationOfOperation
    long chunks = 0;
    auto t = Clock::now();
    auto report = service.run(request, [&](int64_t, int64_t) {
      ++chunks;
      return true;
    });
    if (!report) throw std::runtime_error(report.error().toString());
    double revoke_s = secondsSince(t);
    printf(
        "revoke by selector  %8lld matched %8lld changed in %7.2f s (%ld progress calls, chunk "
        "%ld)\n",
        static_cast<long long>(report->matched), static_cast<long long>(report->changed), revoke_s,
        chunks, chunk);
    t = Clock::now();
    auto again = service.run(request, {});
    if (!again) throw std::runtime_error(again.error().toString());
    printf("repeat (idempotent) %8lld matched %8lld changed in %7.2f s\n",
           static_cast<long long>(again->matched), static_cast<long long>(again->changed),
           secondsSince(t));

    // 3. Publish the CRLs.
    double rss_before = procStatusMb("VmRSS");
    resetPeakRss();
    t = Clock::now();
    if (bulk_delta != 0) {
      auto early = publisher.refreshDeltas();
      if (!early) throw std::runtime_error(early.error().toString());
      auto d = publisher.deltaCrl("issuing");
      printf("bulk delta          %8zu entries in %7.2f s: %.1f MB (number %lld)\n", (*d)->entries,
             secondsSince(t), static_cast<double>((*d)->der.size()) / 1e6,
             static_cast<long long>((*d)->number));
    }
    auto published = publisher.refresh();
    if (!published) throw std::runtime_error(published.error().toString());
    double publish_s = secondsSince(t);
    printf("publish memory      RSS %.0f MB before, peak %.0f MB while publishing\n", rss_before,
           procStatusMb("VmHWM"));
    auto full = publisher.fullCrl("issuing");
    auto delta = publisher.deltaCrl("issuing");
    printf(
        "publish full+delta  %8zu entries in %7.2f s: full CRL %.1f MB (number %lld),"
        " delta %zu entries %.1f MB\n",
        (*full)->entries, publish_s, static_cast<double>((*full)->der.size()) / 1e6,
        static_cast<long long>((*full)->number), (*delta)->entries,
        static_cast<double>((*delta)->der.size()) / 1e6);
    std::ofstream(dir + "/bench-full.crl", std::ios::binary)
        .write(reinterpret_cast<const char*>((*full)->der.data()),
               static_cast<std::streamsize>((*full)->der.size()));

    // 4. Single revocations on a store of revoked certificates: commit to delta CRL served.
    {
      Poco::Data::SQLite::Connector::registerConnector();
      Poco::Data::Session s("SQLite", db);
      enroll::store::CertificateSelector probe;
      probe.product_line = "PL1";
      probe.status = enroll::store::CertStatus::kGood;
      auto have_now = store.countCertificates(all);
      if (!have_now) throw std::runtime_error(have_now.error().toString());
      auto der = authority->certificate().toDer();
      insertRange(s, *have_now, *have_now + 2, batches, "issuing", der, nullptr, rng);
      auto good = store.listCertificates(probe, 2, "");
      if (!good || good->size() != 2) throw std::runtime_error("no good certificates to revoke");
      publisher.start();
      for (const auto& cert : *good) {
        auto before = publisher.fullCrl("issuing");
        int64_t full_before = (*before)->number;
        // Deltas keep their base here, so the one listing the new revocation has one more entry.
        size_t delta_entries_before = (*publisher.deltaCrl("issuing"))->entries;
        enroll::ca::RevocationRequest one;
        one.selector.serials = {cert.serial};
        one.reason = 1;
        auto done = service.run(one, {});
        if (!done || done->changed != 1) throw std::runtime_error("single revocation failed");
        auto committed = Clock::now();
        double delta_s = -1;
        double full_s = -1;
        while (secondsSince(committed) < 120 &&
               (delta_s < 0 || (&cert == &good->back() && full_s < 0))) {
          auto d = publisher.deltaCrl("issuing");
          if (delta_s < 0 && d && (*d)->entries > delta_entries_before)
            delta_s = secondsSince(committed);
          auto f = publisher.fullCrl("issuing");
          if (full_s < 0 && f && (*f)->number > full_before) full_s = secondsSince(committed);
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        printf("single revocation   commit to delta CRL served %7.3f s%s\n", delta_s,
               &cert == &good->front() ? "" : " (while the full CRL of the previous one is made)");
        if (full_s >= 0) printf("                    commit to full CRL served  %7.3f s\n", full_s);
      }
      publisher.stop();
    }

    // 5. OCSP GET paths for wrk.
    std::ofstream lua(dir + "/ocsp-paths.lua");
    lua << "-- wrk script: OCSP GET requests for random certificates (RFC 6960 A.1)\npaths = {\n";
    X509* ca = authority->certificate().native();
    for (long i = 0; i < ocsp_requests && !sample.empty(); ++i) {
      const std::string& hex = sample[static_cast<size_t>(rng() % sample.size())];
      BIGNUM* bn = nullptr;
      BN_hex2bn(&bn, hex.c_str());
      ASN1_INTEGER* serial = BN_to_ASN1_INTEGER(bn, nullptr);
      OCSP_CERTID* id = OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(ca),
                                         X509_get0_pubkey_bitstr(ca), serial);
      OCSP_REQUEST* req = OCSP_REQUEST_new();
      OCSP_request_add0_id(req, id);
      unsigned char* der = nullptr;
      int len = i2d_OCSP_REQUEST(req, &der);
      std::string b64 = enroll::pki::base64Encode(der, static_cast<size_t>(len));
      lua << "  \"/ocsp/" << urlEncode(b64) << "\",\n";
      OPENSSL_free(der);
      OCSP_REQUEST_free(req);
      ASN1_INTEGER_free(serial);
      BN_free(bn);
    }
    lua << "}\ncounter = 0\nrequest = function()\n  counter = counter + 1\n"
           "  return wrk.format(\"GET\", paths[(counter % #paths) + 1])\nend\n";
    printf("ocsp paths          %8ld GET requests in %s/ocsp-paths.lua\n", ocsp_requests,
           dir.c_str());
  } catch (const std::exception& e) {
    std::cerr << "revocation_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

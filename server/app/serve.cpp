#include "server/app/serve.h"

#include <malloc.h>

#include <csignal>

#include <Poco/Net/SSLManager.h>

#include <iostream>
#include <optional>

#include "pki/clock.h"
#include "protocols/est/est_coaps.h"
#include "protocols/est/est_service.h"
#include "provisioning/authorizer.h"
#include "server/admin/admin_service.h"
#include "server/app/config.h"
#include "server/app/ocsp_identity.h"
#include "server/ca/crl_publisher.h"
#include "server/ca/enrollment_service.h"
#include "server/ca/ocsp_responder.h"
#include "server/ca/revocation_service.h"
#include "server/ca/store_scep_directory.h"
#include "server/metrics/metered_enroller.h"
#include "server/store/sql_store.h"
#include "server/store/sqlite/sqlite_dialect.h"
#include "server/transport/admin_handler.h"
#include "server/transport/coap_listener.h"
#include "server/transport/est_handler.h"
#include "server/transport/http_listener.h"
#include "server/transport/metrics_handler.h"
#include "server/transport/request_log.h"
#include "server/transport/scep_handler.h"
#include "server/transport/tls_context.h"

namespace enroll::app {

namespace {

void printQuickStart(const Config& config, const transport::HttpListener& est) {
  std::string host = est.host() == "0.0.0.0" || est.host() == "::" ? "localhost" : est.host();
  std::string url = "https://" + host + ":" + std::to_string(est.port()) + "/.well-known/est";
  std::cout
      << "\nA device enrolls (demo bootstrap certificate; any EST client works):\n"
      << "  cd " << config.dir << "\n"
      << "  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout op.key \\\n"
      << "      -subj /CN=DEMO-0001 -outform DER | base64 > csr.b64\n"
      << "  curl -s --cacert ca/root-ca.pem --cert demo/device-0001.pem --key demo/device-0001.key "
         "\\\n"
      << "      -H 'Content-Type: application/pkcs10' --data-binary @csr.b64 " << url
      << "/simpleenroll \\\n"
      << "      | base64 -d | openssl pkcs7 -inform DER -print_certs -out op.pem\n"
      << "  openssl verify -CAfile ca/root-ca.pem -untrusted ca/issuing-ca.pem op.pem\n"
      << std::endl;
}

/** Request counts and latencies from the request log, and the store's failures. */
void registerServerMetrics(metrics::Registry& registry) {
  auto& requests =
      registry.counter("enrolld_requests_total",
                       "Requests answered, by listener protocol and status (HTTP or CoAP).");
  auto& latency = registry.histogram("enrolld_request_duration_seconds",
                                     "Time from request to answer, by listener protocol.",
                                     metrics::latencyBuckets());
  transport::setLogObserver([&requests, &latency](const std::vector<transport::LogField>& fields) {
    std::string protocol;
    std::string status;
    std::string ms;
    for (const auto& f : fields) {
      if (f.key == "protocol") protocol = f.value;
      if (f.key == "status") status = f.value;
      if (f.key == "latency_ms") ms = f.value;
    }
    if (protocol.empty() || status.empty()) return;  // not a request line
    requests.add({{"protocol", protocol}, {"status", status}});
    if (!ms.empty())
      latency.observe({{"protocol", protocol}}, std::strtod(ms.c_str(), nullptr) / 1000);
  });
  registry.counterReader("enrolld_store_errors_total",
                         "Store operations that failed, by error code (unavailable: busy or I/O).",
                         [] {
                           std::vector<std::pair<metrics::Labels, double>> out;
                           for (const auto& [code, n] : store::storeErrorCounts())
                             out.push_back({{{"code", code}}, static_cast<double>(n)});
                           return out;
                         });
}

/** Age, size and entries of the CRLs being served, read from the publisher at scrape time. */
void registerCrlMetrics(metrics::Registry& registry, const ca::CrlPublisher& publisher,
                        const std::vector<std::shared_ptr<ca::CertificateAuthority>>& authorities,
                        const pki::Clock& clock) {
  std::vector<std::string> names;
  for (const auto& a : authorities) names.push_back(a->name());
  using Read = std::function<double(const ca::PublishedCrl&)>;
  auto gauge = [&](const std::string& name, const std::string& help, const Read& read) {
    registry.gauge(name, help, [&publisher, names, read] {
      std::vector<std::pair<metrics::Labels, double>> out;
      for (const auto& ca : names) {
        if (auto full = publisher.fullCrl(ca))
          out.push_back({{{"ca", ca}, {"kind", "full"}}, read(**full)});
        if (auto delta = publisher.deltaCrl(ca))
          out.push_back({{{"ca", ca}, {"kind", "delta"}}, read(**delta)});
      }
      return out;
    });
  };
  gauge("enrolld_crl_age_seconds", "Seconds since the CRL being served was made (thisUpdate).",
        [&clock](const ca::PublishedCrl& c) {
          return static_cast<double>(clock.now() - c.this_update);
        });
  gauge("enrolld_crl_size_bytes", "Size of the CRL being served (DER).",
        [](const ca::PublishedCrl& c) { return static_cast<double>(c.der.size()); });
  gauge("enrolld_crl_entries", "Revoked and held certificates listed in the CRL being served.",
        [](const ca::PublishedCrl& c) { return static_cast<double>(c.entries); });
  gauge("enrolld_crl_number", "CRL number of the CRL being served.",
        [](const ca::PublishedCrl& c) { return static_cast<double>(c.number); });
}

}  // namespace

int runServe(const ServeOptions& options) {
  // glibc gives each busy thread its own malloc arena; with dozens of worker threads that
  // multiplies resident memory for no speed gain here. Two arenas serve two cores.
  mallopt(M_ARENA_MAX, 2);
  // Block the signals we wait for before any thread starts, so that only sigwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Config config;
  Loaded loaded;
  try {
    config = loadConfig(options.dir);
    for (const auto& [k, v] : options.listen_overrides) config.listen[k] = v;
    loaded = loadPki(config);
  } catch (const std::exception& e) {
    std::cerr << "enrolld serve: " << e.what() << "\n";
    return 1;
  }
  auto store = openStore(config);
  if (!store) {
    std::cerr << "enrolld serve: " << store.error().toString() << "\n";
    return 1;
  }
  pki::SystemClock clock;
  provisioning::Authorizer authorizer(loaded.trust, **store, clock);
  ca::EnrollmentService enrollment(loaded.labels, authorizer, **store, clock);
  // Every protocol enrolls through the metered port, so the metrics see all of them alike.
  metrics::Registry registry;
  metrics::MeteredEnroller metered(enrollment, registry);
  registerServerMetrics(registry);
  est::EstService est_service(metered, est::EstOptions{config.max_body_bytes});
  est::EstCoapsService coaps_service(metered, est::EstCoapsOptions{config.max_body_bytes});
  ca::StoreScepDirectory scep_directory(enrollment, **store, clock);
  std::optional<scep::ScepService> scep_service;
  if (!loaded.scep_labels.empty()) {
    auto created = scep::ScepService::create(metered, scep_directory, loaded.scep_labels);
    if (!created) {
      std::cerr << "enrolld serve: SCEP: " << created.error().toString() << "\n";
      return 1;
    }
    scep_service.emplace(std::move(created).value());
  }

  // The admin API: operators' certificates come from the admin CA and are pinned in the store.
  std::optional<AdminIdentity> admin_identity;
  std::optional<admin::AdminCa> admin_ca;
  std::unique_ptr<admin::OperatorAuthenticator> operator_auth;
  std::unique_ptr<admin::AdminService> admin_service;
  ca::RevocationService revocation_service(**store, clock);
  auto& revocations_counter = registry.counter(
      "enrolld_revocations_total",
      "Certificates whose status a revocation job changed, by action (revoke, hold, release) and "
      "reason.");
  admin::RevocationJobs revocation_jobs(
      revocation_service, **store, clock, [&revocations_counter](const admin::RevocationJob& j) {
        if (j.report.changed > 0)
          revocations_counter.add({{"action", admin::revocationActionName(j.request.action)},
                                   {"reason", ca::crlReasonName(j.request.reason)}},
                                  static_cast<double>(j.report.changed));
      });
  if (config.listen.contains("admin")) {
    try {
      admin_identity = loadAdminIdentity(config);
    } catch (const std::exception& e) {
      std::cerr << "enrolld serve: admin API: " << e.what() << "\n";
      return 1;
    }
    if (admin_identity->key)
      admin_ca = admin::AdminCa{admin_identity->certificate, *admin_identity->key};
    operator_auth =
        std::make_unique<admin::OperatorAuthenticator>(admin_identity->certificate, **store);
    admin_service = std::make_unique<admin::AdminService>(admin::AdminContext{
        **store, clock,
        [&enrollment](const std::string& label) { return enrollment.label(label).has_value(); },
        admin_ca ? &*admin_ca : nullptr, &revocation_jobs});
  }
  // Revocation: CRLs made from the store (and again whenever its revocation revision moves), and
  // the OCSP responder with a delegated signer per CA.
  std::vector<std::shared_ptr<ca::CertificateAuthority>> authorities;
  for (const auto& [name, authority] : loaded.cas) authorities.push_back(authority);
  ca::CrlSettings crl_settings;
  crl_settings.next_update_seconds = config.publish.crl_next_update_seconds;
  crl_settings.delta_next_update_seconds = config.publish.delta_crl_next_update_seconds;
  crl_settings.delta_base_seconds = config.publish.delta_crl_base_seconds;
  crl_settings.base_url = config.publish.base_url;
  ca::CrlPublisher crl_publisher(
      authorities, **store, clock, crl_settings,
      [](const std::vector<std::pair<std::string, std::string>>& fields) {
        std::vector<transport::LogField> line;
        for (const auto& [k, v] : fields) line.push_back({k, v});
        transport::logLine(line);
      });
  // The first CRLs are made on the publisher's thread: a large CRL does not delay the listeners
  // (until it is there, /crl/ answers 503 and SCEP GetCRL signs one itself).
  crl_publisher.start();
  scep_directory.setCrlPublisher(&crl_publisher);
  registerCrlMetrics(registry, crl_publisher, authorities, clock);
  std::unique_ptr<ca::OcspResponder> ocsp;
  try {
    auto signers = ensureOcspSigners(config, loaded, std::cerr);
    auto created =
        ca::OcspResponder::create(std::move(signers), **store, clock,
                                  ca::OcspSettings{config.publish.ocsp_next_update_seconds, 64});
    if (!created) throw ConfigError(created.error().toString());
    ocsp = std::move(created).value();
  } catch (const std::exception& e) {
    std::cerr << "enrolld serve: OCSP responder: " << e.what() << "\n";
    return 1;
  }
  transport::RevocationEndpoints revocation{&crl_publisher, ocsp.get()};

  Poco::Net::initializeSSL();
  std::vector<std::unique_ptr<transport::HttpListener>> listeners;
  std::unique_ptr<transport::CoapListener> coap_listener;
  try {
    for (const auto& [name, addr] : config.listen) {
      transport::ListenerSettings settings = config.http;
      settings.address = addr;
      if (name == "est") {
        transport::TlsSettings tls{config.path(config.tls_certificate), config.path(config.tls_key),
                                   config.tls_min_version, loaded.client_ca_names};
        tls.session_cache_size = static_cast<size_t>(config.tls_session_cache_size);
        listeners.push_back(std::make_unique<transport::HttpListener>(
            "est", settings, transport::makeServerContext(tls),
            new transport::EstHandlerFactory(est_service, config.max_body_bytes)));
      } else if (name == "http") {
        listeners.push_back(std::make_unique<transport::HttpListener>(
            "http", settings, nullptr,
            new transport::PlainHttpHandlerFactory(scep_service ? &*scep_service : nullptr,
                                                   config.max_body_bytes, revocation)));
      } else if (name == "admin") {
        transport::TlsSettings tls{config.path(config.tls_certificate),
                                   config.path(config.tls_key),
                                   config.tls_min_version,
                                   {admin_identity->certificate}};
        listeners.push_back(std::make_unique<transport::HttpListener>(
            "admin", settings, transport::makeServerContext(tls),
            new transport::AdminHandlerFactory(*admin_service, *operator_auth, **store, clock,
                                               config.admin_max_body_bytes)));
      } else if (name == "metrics") {
        listeners.push_back(std::make_unique<transport::HttpListener>(
            "metrics", settings, nullptr, new transport::MetricsHandlerFactory(registry)));
      } else if (name == "coap") {
        transport::CoapSettings coap{addr,
                                     config.path(config.tls_certificate),
                                     config.path(config.tls_key),
                                     loaded.client_ca_names,
                                     {}};
        for (const auto& [label, l] : *loaded.labels) coap.labels.push_back(label);
        coap.enrollment_threads = config.coap_enrollment_threads;
        auto created = transport::CoapListener::create(coaps_service, coap);
        if (!created) {
          std::cerr << "enrolld serve: cannot open the coap listener: "
                    << created.error().toString() << "\n";
          return 1;
        }
        coap_listener = std::move(created).value();
      } else {
        std::cerr << "enrolld serve: listener '" << name << "' (" << addr
                  << ") is not available in this version; not opened\n";
      }
    }
  } catch (const Poco::Exception& e) {
    std::cerr << "enrolld serve: cannot open a listener: " << e.displayText() << "\n";
    return 1;
  }

  std::cout << "enrolld " << ENROLLD_VERSION << " serving " << config.dir << "\n";
  const transport::HttpListener* est_listener = nullptr;
  for (const auto& l : listeners) {
    std::string base = l->host() + ":" + std::to_string(l->port());
    if (l->name() == "est") {
      est_listener = l.get();
      std::cout << "listening est https://" << base << "/.well-known/est/\n"
                << "  EST over HTTPS: cacerts csrattrs simpleenroll simplereenroll serverkeygen\n";
    } else if (l->name() == "metrics") {
      std::cout << "listening metrics http://" << base << "/metrics\n";
    } else if (l->name() == "admin") {
      std::cout << "listening admin https://" << base << "/api/v1/\n"
                << "  admin API (enrollctl): operator certificates from the admin CA\n";
    } else {
      std::cout << "listening http http://" << base << "/\n";
      if (scep_service) std::cout << "  SCEP: http://" << base << "/scep (and /scep/<label>)\n";
      for (const auto& [name, authority] : loaded.cas) {
        std::cout << "  CRL: http://" << base << ca::fullCrlPath(name) << " (delta "
                  << ca::deltaCrlPath(name) << "), CA certificate " << ca::caCertificatePath(name)
                  << "\n";
      }
      std::cout << "  OCSP: http://" << base << ca::ocspPath() << "\n";
    }
  }
  if (coap_listener) {
    std::cout << "listening coap coaps://" << coap_listener->host() << ":" << coap_listener->port()
              << "/est\n"
              << "  EST-coaps (RFC 9148): crts sen sren att skg, /.well-known/core\n";
  }
  std::cout << "  labels:";
  for (const auto& [name, l] : *loaded.labels)
    std::cout << " " << (name.empty() ? "default" : name);
  std::cout << "\n";
  if (est_listener) printQuickStart(config, *est_listener);
  std::cout.flush();

  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      try {
        Config fresh = loadConfig(options.dir);
        Loaded reloaded = loadPki(fresh);
        authorizer.setTrustStore(reloaded.trust);
        enrollment.setLabels(reloaded.labels);
        if (coap_listener) {
          std::vector<std::string> names;
          for (const auto& [label, l] : *reloaded.labels) names.push_back(label);
          coap_listener->setLabels(names);
        }
        transport::logLine({{"event", "reload"},
                            {"outcome", "ok"},
                            {"trust_anchor_sets", std::to_string(reloaded.trust->names().size())},
                            {"labels", std::to_string(reloaded.labels->size())}});
      } catch (const std::exception& e) {
        transport::logLine({{"event", "reload"}, {"outcome", "refused"}, {"reason", e.what()}});
      }
      continue;
    }
    transport::logLine({{"event", "shutdown"}, {"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    break;
  }
  if (coap_listener) coap_listener->stop();
  for (auto& l : listeners) l->stop();  // drains requests in flight
  listeners.clear();
  crl_publisher.stop();
  transport::setLogObserver(nullptr);  // the registry it feeds ends with this function
  Poco::Net::uninitializeSSL();
  transport::logLine({{"event", "stopped"}});
  return 0;
}

}  // namespace enroll::app

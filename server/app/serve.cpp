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
#include "server/app/config.h"
#include "server/ca/enrollment_service.h"
#include "server/ca/store_scep_directory.h"
#include "server/store/sqlite/sqlite_dialect.h"
#include "server/transport/coap_listener.h"
#include "server/transport/est_handler.h"
#include "server/transport/http_listener.h"
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
  est::EstService est_service(enrollment, est::EstOptions{config.max_body_bytes});
  est::EstCoapsService coaps_service(enrollment, est::EstCoapsOptions{config.max_body_bytes});
  ca::StoreScepDirectory scep_directory(enrollment, **store, clock);
  std::optional<scep::ScepService> scep_service;
  if (!loaded.scep_labels.empty()) {
    auto created = scep::ScepService::create(enrollment, scep_directory, loaded.scep_labels);
    if (!created) {
      std::cerr << "enrolld serve: SCEP: " << created.error().toString() << "\n";
      return 1;
    }
    scep_service.emplace(std::move(created).value());
  }

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
                                                   config.max_body_bytes)));
      } else if (name == "coap") {
        transport::CoapSettings coap{addr,
                                     config.path(config.tls_certificate),
                                     config.path(config.tls_key),
                                     loaded.client_ca_names,
                                     {}};
        for (const auto& [label, l] : *loaded.labels) coap.labels.push_back(label);
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
    } else {
      std::cout << "listening http http://" << base << "/\n";
      if (scep_service) std::cout << "  SCEP: http://" << base << "/scep (and /scep/<label>)\n";
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
  Poco::Net::uninitializeSSL();
  transport::logLine({{"event", "stopped"}});
  return 0;
}

}  // namespace enroll::app

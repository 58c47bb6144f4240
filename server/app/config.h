#pragma once
/**
 * enrolld's configuration file (DIR/enrolld.json), read with Poco::JSON. Unknown keys and wrong
 * types are refused at start with the key's path ("labels.default.profle: unknown key").
 * Every key and its default is documented in docs/configuration.md.
 */
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "pki/private_key.h"
#include "protocols/scep/scep_service.h"
#include "server/ca/enrollment_service.h"
#include "server/store/store.h"
#include "server/transport/http_listener.h"

namespace enroll::app {

/** A configuration error; only thrown while loading, caught in main. */
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CaConfig {
  std::string certificate;  ///< the issuing CA certificate (PEM)
  std::string chain;        ///< certificates above it, up to the root (PEM); may be empty
  std::string key;          ///< its private key (PEM, possibly encrypted)
  std::string key_passphrase_file;
  std::string key_passphrase_env;
  /** The delegated OCSP responder (RFC 6960): made by init, or by serve when missing. */
  std::string ocsp_certificate;  ///< default ca/<name>-ocsp.pem
  std::string ocsp_key;          ///< default ca/<name>-ocsp.key
};

/** Where CRLs and OCSP are published, and how often (docs/configuration.md, publish.*). */
struct PublishConfig {
  /** Public base URL of the plain HTTP listener; empty: no CDP/AIA URLs are added. */
  std::string base_url;
  int crl_next_update_seconds = 86400;
  int delta_crl_next_update_seconds = 3600;
  int delta_crl_base_seconds = 86400;
  int ocsp_next_update_seconds = 3600;
};

struct TrustAnchorConfig {
  std::vector<std::string> certificates;
  std::vector<std::string> intermediates;
};

struct LabelConfig {
  std::string ca = "issuing";
  std::string profile = "device";
  std::vector<std::string> bootstrap_trust;
  std::string device_id_from = "serialNumber";
  bool allow_basic = false;
  bool require_channel_binding = false;
  bool known_devices_only = false;
  bool allow_stations = false;
  int max_enrollments_per_bootstrap = 0;
  bool allow_renewal = true;
  int renewal_grace_days = 0;
  bool manual_approval = false;
  int retry_after_seconds = 60;
  bool server_keygen = true;
  std::string server_keygen_key = "ec-p256";
  std::string scep_challenge_file;
  bool scep = true;          ///< serve /scep/<label> when an RA is configured
  bool scep_legacy = false;  ///< accept SHA-1/MD5 and DES/3DES (old SCEP clients)
};

struct Config {
  std::string dir;  ///< the data folder; relative paths are relative to it
  std::map<std::string, std::string> listen = {{"est", "0.0.0.0:8443"}};
  std::string tls_certificate = "tls/server.pem";
  std::string tls_key = "tls/server.key";
  std::string tls_min_version = "1.2";
  int tls_session_cache_size = 1024;
  transport::ListenerSettings http;  ///< threads and timeouts (address is per listener)
  int coap_enrollment_threads = 8;   ///< EST-coaps enrollments off the I/O thread (coap.*)
  size_t max_body_bytes = size_t{64} * 1024;
  std::string database_driver = "sqlite";
  std::string database_path = "enrolld.db";
  int database_busy_timeout_ms = 10000;
  std::string database_synchronous = "full";  ///< "full" or "normal" (SQLite)
  std::map<std::string, CaConfig> cas;
  /** The admin API: the CA whose certificates operators hold, and its body limit. */
  std::string admin_ca_certificate;  ///< empty: no admin API
  std::string admin_ca_key;          ///< empty: POST /operators is unavailable
  size_t admin_max_body_bytes = size_t{64} * 1024 * 1024;
  std::string scep_ra_certificate;  ///< empty: no SCEP
  std::string scep_ra_key;
  std::string
      scep_next_ca_chain;  ///< the next CA chain during a rollover (GetNextCACert); empty: none
  std::map<std::string, TrustAnchorConfig> trust_anchors;
  std::map<std::string, ca::Profile> profiles;
  std::map<std::string, LabelConfig> labels;
  PublishConfig publish;

  /** An absolute path for a configured (possibly relative) one. */
  std::string path(const std::string& p) const;
};

/** Reads and validates DIR/enrolld.json; throws ConfigError with the key path. */
Config loadConfig(const std::string& dir);
/** Parses configuration text (tests). */
Config parseConfig(const std::string& json_text, const std::string& dir);

/** The admin CA of the configuration (certificate and, if configured, key); throws ConfigError. */
struct AdminIdentity {
  pki::Certificate certificate;
  std::optional<pki::PrivateKey> key;
};
AdminIdentity loadAdminIdentity(const Config& config);

/** Opens the configured store. */
pki::Result<std::unique_ptr<store::Store>> openStore(const Config& config);

/** Loads the CAs, trust anchors, profiles and labels the configuration names; throws ConfigError.
 */
struct Loaded {
  std::shared_ptr<provisioning::TrustStore> trust;
  std::shared_ptr<ca::LabelMap> labels;
  std::vector<pki::Certificate> client_ca_names;
  /** SCEP settings by label ("" default); empty when SCEP is not configured. */
  std::map<std::string, scep::ScepLabelConfig> scep_labels;
  /** The issuing CAs by configuration name. */
  std::map<std::string, std::shared_ptr<ca::CertificateAuthority>> cas;
};
Loaded loadPki(const Config& config);

}  // namespace enroll::app

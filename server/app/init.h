#pragma once
/** `enrolld init DIR`: creates (or imports) the CA, the TLS identity, the configuration and the
 * database. */
#include <string>
#include <vector>

namespace enroll::app {

struct InitOptions {
  std::string dir;
  std::string key_type = "ec-p256";
  std::string organization = "enrolld";
  std::vector<std::string> hostnames;  ///< extra DNS names for the TLS certificate
  /** publish.base_url (CRL and OCSP URLs in certificates); default http://HOST:8080 with the
   * first --hostname, else this host's name. */
  std::string public_url;
  std::vector<std::string> trust_bootstrap_cas;  ///< manufacturer CA files for the default label
  bool demo = false;
  // Import an existing issuing CA instead of creating one.
  std::string import_ca_cert;
  std::string import_ca_key;
  std::string import_ca_chain;
  std::string key_passphrase_file;
  std::string key_passphrase_env;
};

/** Runs init; returns 0 or prints the error to stderr and returns non-zero. */
int runInit(const InitOptions& options);

}  // namespace enroll::app

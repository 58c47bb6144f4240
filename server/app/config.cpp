#include "server/app/config.h"

#include "server/ca/crl_publisher.h"

#include "server/store/sqlite/sqlite_dialect.h"

#include <Poco/JSON/Parser.h>
#include <Poco/Path.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace enroll::app {

namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/** Walks one JSON object, checking types and remembering which keys were read. */
class Reader {
 public:
  Reader(Poco::JSON::Object::Ptr obj, std::string path)
      : obj_(std::move(obj)), path_(std::move(path)) {}

  /** Call after the last read: refuses any key that was not read. */
  void done() const {
    for (const auto& key : obj_->getNames()) {
      if (!seen_.contains(key)) throw ConfigError(where(key) + ": unknown key");
    }
  }

  std::string where(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }
  bool has(const std::string& key) const { return obj_->has(key); }
  std::vector<std::string> keys() const { return obj_->getNames(); }

  void string(const std::string& key, std::string& out) {
    if (!take(key)) return;
    auto v = obj_->get(key);
    if (!v.isString()) throw ConfigError(where(key) + ": must be a string");
    out = v.extract<std::string>();
  }
  void boolean(const std::string& key, bool& out) {
    if (!take(key)) return;
    auto v = obj_->get(key);
    if (!v.isBoolean()) throw ConfigError(where(key) + ": must be true or false");
    out = v.extract<bool>();
  }
  void integer(const std::string& key, int& out, int min, int max) {
    if (!take(key)) return;
    auto v = obj_->get(key);
    if (!v.isInteger()) throw ConfigError(where(key) + ": must be an integer");
    auto n = v.convert<long long>();
    if (n < min || n > max) {
      throw ConfigError(where(key) + ": must be between " + std::to_string(min) + " and " +
                        std::to_string(max));
    }
    out = static_cast<int>(n);
  }
  void strings(const std::string& key, std::vector<std::string>& out) {
    if (!take(key)) return;
    auto arr = obj_->getArray(key);
    if (!arr) throw ConfigError(where(key) + ": must be an array of strings");
    out.clear();
    for (size_t i = 0; i < arr->size(); ++i) {
      auto v = arr->get(static_cast<unsigned>(i));
      if (!v.isString())
        throw ConfigError(where(key) + "[" + std::to_string(i) + "]: must be a string");
      out.push_back(v.extract<std::string>());
    }
  }
  /** A nested object, or null when absent. */
  Poco::JSON::Object::Ptr object(const std::string& key) {
    if (!take(key)) return nullptr;
    auto o = obj_->getObject(key);
    if (!o) throw ConfigError(where(key) + ": must be an object");
    return o;
  }

 private:
  bool take(const std::string& key) {
    if (!obj_->has(key)) return false;
    seen_.insert(key);
    return true;
  }
  Poco::JSON::Object::Ptr obj_;
  std::string path_;
  std::set<std::string> seen_;
};

ca::Profile readProfile(const Poco::JSON::Object::Ptr& obj, const std::string& path,
                        const std::string& name) {
  ca::Profile p;
  p.name = name;
  Reader r(obj, path);
  r.integer("lifetime_days", p.lifetime_days, 1, 36500);
  r.integer("backdate_seconds", p.backdate_seconds, 0, 86400);
  r.strings("key_usage", p.key_usage);
  r.strings("extended_key_usage", p.extended_key_usage);
  r.string("subject", p.subject);
  r.strings("subject_alt_names", p.subject_alt_names);
  std::string policy = "template";
  r.string("subject_policy", policy);
  if (policy == "template")
    p.subject_policy = ca::SubjectPolicy::kTemplate;
  else if (policy == "match")
    p.subject_policy = ca::SubjectPolicy::kMatch;
  else
    throw ConfigError(r.where("subject_policy") + ": must be \"template\" or \"match\"");
  r.boolean("allow_csr_dns_names", p.allow_csr_dns_names);
  r.boolean("allow_sha1_csr", p.allow_sha1_csr);
  std::vector<std::string> keys;
  r.strings("allowed_keys", keys);
  if (!keys.empty()) {
    p.allowed_keys.clear();
    for (const auto& k : keys) {
      auto t = pki::parseKeyType(k);
      if (!t) throw ConfigError(r.where("allowed_keys") + ": " + t.error().message);
      p.allowed_keys.push_back(*t);
    }
  }
  r.string("crl_url", p.crl_url);
  r.string("ocsp_url", p.ocsp_url);
  r.string("ca_issuers_url", p.ca_issuers_url);
  r.done();
  // Templates may only name known variables.
  std::vector<std::string> templates = p.subject_alt_names;
  templates.push_back(p.subject);
  for (const auto& t : templates) {
    for (const auto& v : ca::templateVariables(t)) {
      const auto& known = ca::knownTemplateVariables();
      if (std::find(known.begin(), known.end(), v) == known.end()) {
        throw ConfigError(path + ": unknown template variable {" + v + "}");
      }
    }
  }
  return p;
}

LabelConfig readLabel(const Poco::JSON::Object::Ptr& obj, const std::string& path) {
  LabelConfig l;
  Reader r(obj, path);
  r.string("ca", l.ca);
  r.string("profile", l.profile);
  r.strings("bootstrap_trust", l.bootstrap_trust);
  r.string("device_id_from", l.device_id_from);
  r.boolean("allow_basic", l.allow_basic);
  r.boolean("require_channel_binding", l.require_channel_binding);
  r.boolean("known_devices_only", l.known_devices_only);
  r.boolean("allow_stations", l.allow_stations);
  r.integer("max_enrollments_per_bootstrap", l.max_enrollments_per_bootstrap, 0, 1000000);
  r.boolean("allow_renewal", l.allow_renewal);
  r.integer("renewal_grace_days", l.renewal_grace_days, 0, 3650);
  r.boolean("manual_approval", l.manual_approval);
  r.integer("retry_after_seconds", l.retry_after_seconds, 1, 86400);
  r.boolean("server_keygen", l.server_keygen);
  r.string("server_keygen_key", l.server_keygen_key);
  r.string("scep_challenge_file", l.scep_challenge_file);
  r.boolean("scep", l.scep);
  r.boolean("scep_legacy", l.scep_legacy);
  r.done();
  return l;
}

}  // namespace

std::string Config::path(const std::string& p) const {
  if (p.empty() || p[0] == '/') return p;
  return dir + "/" + p;
}

Config parseConfig(const std::string& json_text, const std::string& dir) {
  Poco::JSON::Object::Ptr root;
  try {
    Poco::JSON::Parser parser;
    root = parser.parse(json_text).extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception& e) {
    throw ConfigError("enrolld.json is not valid JSON: " + e.displayText());
  } catch (const std::exception& e) {
    throw ConfigError("enrolld.json must hold a JSON object");
  }
  Config c;
  c.dir = dir;
  Reader r(root, "");
  if (auto listen = r.object("listen")) {
    Reader lr(listen, "listen");
    c.listen.clear();
    for (const auto& name : {"est", "http", "coap", "admin", "metrics"}) {
      std::string addr;
      lr.string(name, addr);
      if (addr.empty()) continue;
      try {
        std::string host;
        int port = 0;
        transport::splitHostPort(addr, &host, &port);
      } catch (const Poco::Exception& e) {
        throw ConfigError(lr.where(name) + ": " + e.displayText());
      }
      c.listen[name] = addr;
    }
    lr.done();
  }
  if (auto tls = r.object("tls")) {
    Reader tr(tls, "tls");
    tr.string("certificate", c.tls_certificate);
    tr.string("key", c.tls_key);
    tr.string("min_version", c.tls_min_version);
    tr.integer("session_cache_size", c.tls_session_cache_size, 0, 1000000);
    if (c.tls_min_version != "1.2" && c.tls_min_version != "1.3") {
      throw ConfigError("tls.min_version: must be \"1.2\" or \"1.3\"");
    }
    tr.done();
  }
  if (auto http = r.object("http")) {
    Reader hr(http, "http");
    hr.integer("max_threads", c.http.max_threads, 1, 1024);
    hr.integer("max_queued", c.http.max_queued, 1, 100000);
    hr.integer("keep_alive_seconds", c.http.keep_alive_seconds, 1, 3600);
    hr.integer("timeout_seconds", c.http.timeout_seconds, 1, 3600);
    int body = static_cast<int>(c.max_body_bytes);
    hr.integer("max_body_bytes", body, 1024, 16 * 1024 * 1024);
    c.max_body_bytes = static_cast<size_t>(body);
    hr.done();
  }
  if (auto coap = r.object("coap")) {
    Reader cr(coap, "coap");
    cr.integer("enrollment_threads", c.coap_enrollment_threads, 0, 256);
    cr.done();
  }
  if (auto db = r.object("database")) {
    Reader dr(db, "database");
    dr.string("driver", c.database_driver);
    dr.string("path", c.database_path);
    dr.integer("busy_timeout_ms", c.database_busy_timeout_ms, 0, 600000);
    dr.string("synchronous", c.database_synchronous);
    if (c.database_synchronous != "full" && c.database_synchronous != "normal") {
      throw ConfigError("database.synchronous: must be \"full\" or \"normal\"");
    }
    if (c.database_driver != "sqlite")
      throw ConfigError("database.driver: only \"sqlite\" is available");
    dr.done();
  }
  if (auto adm = r.object("admin")) {
    Reader ar(adm, "admin");
    ar.string("ca_certificate", c.admin_ca_certificate);
    ar.string("ca_key", c.admin_ca_key);
    int body = static_cast<int>(c.admin_max_body_bytes);
    ar.integer("max_body_bytes", body, 1024, 1024 * 1024 * 1024);
    c.admin_max_body_bytes = static_cast<size_t>(body);
    ar.done();
  }
  if (auto cas = r.object("cas")) {
    Reader cr(cas, "cas");
    for (const auto& name : cr.keys()) {
      CaConfig ca;
      Reader one(cr.object(name), "cas." + name);
      one.string("certificate", ca.certificate);
      one.string("chain", ca.chain);
      one.string("key", ca.key);
      one.string("key_passphrase_file", ca.key_passphrase_file);
      one.string("key_passphrase_env", ca.key_passphrase_env);
      one.string("ocsp_certificate", ca.ocsp_certificate);
      one.string("ocsp_key", ca.ocsp_key);
      one.done();
      if (ca.ocsp_certificate.empty()) ca.ocsp_certificate = "ca/" + name + "-ocsp.pem";
      if (ca.ocsp_key.empty()) ca.ocsp_key = "ca/" + name + "-ocsp.key";
      if (ca.certificate.empty() || ca.key.empty()) {
        throw ConfigError("cas." + name + ": certificate and key are required");
      }
      c.cas[name] = ca;
    }
    cr.done();
  }
  if (auto publish = r.object("publish")) {
    Reader pr(publish, "publish");
    auto& p = c.publish;
    pr.string("base_url", p.base_url);
    pr.integer("crl_next_update_seconds", p.crl_next_update_seconds, 60, 31 * 86400);
    pr.integer("delta_crl_next_update_seconds", p.delta_crl_next_update_seconds, 60, 31 * 86400);
    pr.integer("delta_crl_base_seconds", p.delta_crl_base_seconds, 60, 366 * 86400);
    pr.integer("ocsp_next_update_seconds", p.ocsp_next_update_seconds, 0, 7 * 86400);
    pr.done();
    while (!p.base_url.empty() && p.base_url.back() == '/') p.base_url.pop_back();
    if (!p.base_url.empty() && p.base_url.rfind("http://", 0) != 0 &&
        p.base_url.rfind("https://", 0) != 0) {
      throw ConfigError("publish.base_url: must start with http:// (RFC 5280 4.2.1.13)");
    }
  }
  if (auto scep = r.object("scep")) {
    Reader sr(scep, "scep");
    sr.string("ra_certificate", c.scep_ra_certificate);
    sr.string("ra_key", c.scep_ra_key);
    sr.string("next_ca_chain", c.scep_next_ca_chain);
    sr.done();
    if (c.scep_ra_certificate.empty() || c.scep_ra_key.empty()) {
      throw ConfigError("scep: ra_certificate and ra_key are required");
    }
  }
  if (auto anchors = r.object("trust_anchors")) {
    Reader ar(anchors, "trust_anchors");
    for (const auto& name : ar.keys()) {
      TrustAnchorConfig t;
      Reader one(ar.object(name), "trust_anchors." + name);
      one.strings("certificates", t.certificates);
      one.strings("intermediates", t.intermediates);
      one.done();
      if (t.certificates.empty())
        throw ConfigError("trust_anchors." + name + ".certificates: at least one file");
      c.trust_anchors[name] = t;
    }
    ar.done();
  }
  if (auto profiles = r.object("profiles")) {
    Reader pr(profiles, "profiles");
    for (const auto& name : pr.keys())
      c.profiles[name] = readProfile(pr.object(name), "profiles." + name, name);
    pr.done();
  }
  if (auto labels = r.object("labels")) {
    Reader lr(labels, "labels");
    for (const auto& name : lr.keys())
      c.labels[name] = readLabel(lr.object(name), "labels." + name);
    lr.done();
  }
  r.done();
  // Cross references.
  for (const auto& [name, l] : c.labels) {
    if (name.find('/') != std::string::npos || name.empty())
      throw ConfigError("labels." + name + ": bad label name");
    if (!c.cas.contains(l.ca))
      throw ConfigError("labels." + name + ".ca: no CA named '" + l.ca + "'");
    if (!c.profiles.contains(l.profile))
      throw ConfigError("labels." + name + ".profile: no profile named '" + l.profile + "'");
    for (const auto& t : l.bootstrap_trust) {
      if (!c.trust_anchors.contains(t))
        throw ConfigError("labels." + name + ".bootstrap_trust: no trust anchor set '" + t + "'");
    }
    auto src = provisioning::parseDeviceIdSource(l.device_id_from);
    if (!src) throw ConfigError("labels." + name + ".device_id_from: " + src.error().message);
    auto key = pki::parseKeyType(l.server_keygen_key);
    if (!key) throw ConfigError("labels." + name + ".server_keygen_key: " + key.error().message);
  }
  if (!c.labels.contains("default"))
    throw ConfigError("labels: a label named \"default\" is required");
  return c;
}

pki::Result<std::unique_ptr<store::Store>> openStore(const Config& config) {
  return store::openSqliteStore(config.path(config.database_path), config.database_busy_timeout_ms,
                                config.database_synchronous == "full");
}

Config loadConfig(const std::string& dir) {
  std::string abs = Poco::Path(dir).absolute().toString();
  if (!abs.empty() && abs.back() == '/') abs.pop_back();
  return parseConfig(readFile(abs + "/enrolld.json"), abs);
}

namespace {

std::vector<pki::Certificate> readCerts(const Config& c, const std::string& file,
                                        const std::string& what) {
  auto certs = pki::Certificate::chainFromPem(readFile(c.path(file)));
  if (!certs) throw ConfigError(what + ": " + c.path(file) + ": " + certs.error().message);
  return std::move(certs).value();
}

pki::PrivateKey readKey(const Config& c, const CaConfig& ca, const std::string& name) {
  std::optional<pki::SecretString> pass;
  if (!ca.key_passphrase_file.empty()) {
    std::string p = readFile(c.path(ca.key_passphrase_file));
    while (!p.empty() && (p.back() == '\n' || p.back() == '\r')) p.pop_back();
    pass = pki::SecretString(p);
  } else if (!ca.key_passphrase_env.empty()) {
    const char* v = std::getenv(ca.key_passphrase_env.c_str());
    if (!v)
      throw ConfigError("cas." + name + ".key_passphrase_env: $" + ca.key_passphrase_env +
                        " is not set");
    pass = pki::SecretString(v);
  }
  auto key = pki::PrivateKey::fromPem(readFile(c.path(ca.key)), pass ? &*pass : nullptr);
  if (!key) throw ConfigError("cas." + name + ".key: " + key.error().message);
  return std::move(key).value();
}

}  // namespace

AdminIdentity loadAdminIdentity(const Config& c) {
  if (c.admin_ca_certificate.empty()) throw ConfigError("admin.ca_certificate: not configured");
  auto cert = pki::Certificate::fromPem(readFile(c.path(c.admin_ca_certificate)));
  if (!cert) throw ConfigError("admin.ca_certificate: " + cert.error().message);
  AdminIdentity id{std::move(cert).value(), std::nullopt};
  if (!c.admin_ca_key.empty()) {
    auto key = pki::PrivateKey::fromPem(readFile(c.path(c.admin_ca_key)));
    if (!key) throw ConfigError("admin.ca_key: " + key.error().message);
    id.key = std::move(key).value();
  }
  return id;
}

Loaded loadPki(const Config& c) {
  Loaded out;
  out.trust = std::make_shared<provisioning::TrustStore>();
  for (const auto& [name, t] : c.trust_anchors) {
    provisioning::TrustAnchorSet set;
    set.name = name;
    for (const auto& f : t.certificates) {
      auto certs = readCerts(c, f, "trust_anchors." + name);
      set.anchors.insert(set.anchors.end(), certs.begin(), certs.end());
    }
    for (const auto& f : t.intermediates) {
      auto certs = readCerts(c, f, "trust_anchors." + name);
      set.intermediates.insert(set.intermediates.end(), certs.begin(), certs.end());
    }
    out.client_ca_names.insert(out.client_ca_names.end(), set.anchors.begin(), set.anchors.end());
    auto added = out.trust->add(std::move(set));
    if (!added) throw ConfigError("trust_anchors." + name + ": " + added.error().message);
  }
  std::map<std::string, std::shared_ptr<ca::CertificateAuthority>> cas;
  for (const auto& [name, cfg] : c.cas) {
    auto chain = readCerts(c, cfg.certificate, "cas." + name + ".certificate");
    if (!cfg.chain.empty()) {
      auto rest = readCerts(c, cfg.chain, "cas." + name + ".chain");
      chain.insert(chain.end(), rest.begin(), rest.end());
    }
    auto authority = ca::CertificateAuthority::create(name, chain, readKey(c, cfg, name));
    if (!authority) throw ConfigError("cas." + name + ": " + authority.error().message);
    cas[name] = *authority;
    out.client_ca_names.push_back(chain.back());
    out.cas[name] = *authority;
  }
  out.labels = std::make_shared<ca::LabelMap>();
  for (const auto& [name, l] : c.labels) {
    ca::Label label;
    label.name = name == "default" ? "" : name;
    label.ca = cas.at(l.ca);
    label.profile = c.profiles.at(l.profile);
    if (!c.publish.base_url.empty()) {
      // CDP and AIA point at what this server publishes, unless the profile names its own.
      auto& p = label.profile;
      if (p.crl_url.empty()) p.crl_url = c.publish.base_url + ca::fullCrlPath(l.ca);
      if (p.ocsp_url.empty()) p.ocsp_url = c.publish.base_url + ca::ocspPath();
      if (p.ca_issuers_url.empty())
        p.ca_issuers_url = c.publish.base_url + ca::caCertificatePath(l.ca);
    }
    auto& p = label.policy;
    p.bootstrap_trust = l.bootstrap_trust;
    p.device_id_source = *provisioning::parseDeviceIdSource(l.device_id_from);
    p.allow_basic = l.allow_basic;
    p.require_channel_binding = l.require_channel_binding;
    p.known_devices_only = l.known_devices_only;
    p.allow_stations = l.allow_stations;
    p.max_enrollments_per_bootstrap = l.max_enrollments_per_bootstrap;
    p.allow_renewal = l.allow_renewal;
    p.renewal_grace_days = l.renewal_grace_days;
    if (!l.scep_challenge_file.empty()) {
      std::string s = readFile(c.path(l.scep_challenge_file));
      while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
      p.scep_challenge = pki::SecretString(s);
    }
    label.manual_approval = l.manual_approval;
    label.retry_after_seconds = l.retry_after_seconds;
    label.server_keygen = l.server_keygen;
    label.server_keygen_key = *pki::parseKeyType(l.server_keygen_key);
    (*out.labels)[label.name] = std::move(label);
  }
  if (!c.scep_ra_certificate.empty()) {
    auto ra = readCerts(c, c.scep_ra_certificate, "scep.ra_certificate").front();
    auto key = pki::PrivateKey::fromPem(readFile(c.path(c.scep_ra_key)));
    if (!key) throw ConfigError("scep.ra_key: " + key.error().message);
    std::vector<pki::Certificate> next;
    if (!c.scep_next_ca_chain.empty())
      next = readCerts(c, c.scep_next_ca_chain, "scep.next_ca_chain");
    for (const auto& [name, l] : c.labels) {
      if (!l.scep) continue;
      out.scep_labels.emplace(name == "default" ? "" : name,
                              scep::ScepLabelConfig{ra, *key, next, l.scep_legacy});
    }
  }
  return out;
}

}  // namespace enroll::app

#include "server/app/init.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <Poco/File.h>
#include <Poco/JSON/Object.h>
#include <Poco/Path.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "server/admin/operator_identity.h"
#include "server/app/config.h"
#include "server/app/ocsp_identity.h"
#include "server/ca/certificate_builder.h"
#include "server/ca/profile.h"
#include "server/ca/serial_generator.h"
#include "server/store/sqlite/sqlite_dialect.h"

namespace enroll::app {

namespace {

class InitError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <typename T>
T must(pki::Result<T> r, const std::string& what) {
  if (!r)
    throw InitError(what + ": " + r.error().message +
                    (r.error().detail.empty() ? "" : " (" + r.error().detail + ")"));
  return std::move(r).value();
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InitError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/** Writes a new file; never overwrites. Secrets get mode 0600. */
void writeNew(const std::string& path, const std::string& data, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, mode);
  if (fd < 0) throw InitError("cannot create " + path + ": " + std::strerror(errno));
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n <= 0) {
      ::close(fd);
      throw InitError("cannot write " + path);
    }
    off += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
}

void writeKey(const std::string& path, const pki::PrivateKey& key) {
  writeNew(path, key.toPem().reveal(), 0600);
}

struct Issued {
  pki::Certificate cert;
  pki::PrivateKey key;
};

const ca::SerialGenerator& serials() {
  static ca::SerialGenerator g;
  return g;
}

Issued makeCa(const std::string& subject, pki::KeyType type, int days, int path_len,
              const Issued* parent) {
  auto key = must(pki::PrivateKey::generate(type), "key generation");
  auto name = must(ca::parseName(subject), "subject");
  auto serial = must(serials().next(), "serial");
  std::time_t now = std::time(nullptr);
  ca::CertificateBuilder b;
  b.subject(name.get())
      .publicKey(key.native())
      .serial(serial.get())
      .validity(now - 300, now + static_cast<std::time_t>(days) * 86400)
      .basicConstraints(true, path_len)
      .keyUsage({"keyCertSign", "cRLSign", "digitalSignature"});
  auto cert = parent ? must(b.sign(parent->key.native(), &parent->cert), "signing " + subject)
                     : must(b.sign(key.native()), "signing " + subject);
  return {cert, key};
}

Issued makeLeaf(const std::string& subject, pki::KeyType type, int days, const Issued& issuer,
                const std::vector<std::string>& eku, const std::vector<std::string>& sans,
                const std::vector<std::string>& ku = {"digitalSignature", "keyAgreement"}) {
  auto key = must(pki::PrivateKey::generate(type), "key generation");
  auto name = must(ca::parseName(subject), "subject");
  auto serial = must(serials().next(), "serial");
  std::time_t now = std::time(nullptr);
  std::time_t not_after =
      std::min(now + static_cast<std::time_t>(days) * 86400, issuer.cert.notAfter());
  ca::CertificateBuilder b;
  std::vector<std::string> usages = ku;
  if (type == pki::KeyType::kRsa2048 || type == pki::KeyType::kRsa3072 ||
      type == pki::KeyType::kRsa4096) {
    for (auto& u : usages)
      if (u == "keyAgreement") u = "keyEncipherment";
  }
  b.subject(name.get())
      .publicKey(key.native())
      .serial(serial.get())
      .validity(now - 300, not_after)
      .basicConstraints(false)
      .keyUsage(usages)
      .extendedKeyUsage(eku)
      .subjectAltNames(sans);
  return {must(b.sign(issuer.key.native(), &issuer.cert), "signing " + subject), key};
}

std::string hostName() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

Poco::JSON::Array::Ptr array(const std::vector<std::string>& items) {
  Poco::JSON::Array::Ptr a = new Poco::JSON::Array;
  for (const auto& i : items) a->add(i);
  return a;
}

}  // namespace

int runInit(const InitOptions& o) {
  try {
    if (o.dir.empty()) throw InitError("usage: enrolld init DIR");
    std::string dir = Poco::Path(o.dir).absolute().toString();
    if (dir.back() == '/') dir.pop_back();
    if (Poco::File(dir + "/enrolld.json").exists() ||
        Poco::File(dir + "/ca/issuing-ca.key").exists()) {
      throw InitError(dir +
                      " already holds a CA (enrolld.json or ca/issuing-ca.key exists); refusing to "
                      "overwrite it");
    }
    auto key_type = must(pki::parseKeyType(o.key_type), "--key-type");
    Poco::File(dir + "/ca").createDirectories();
    Poco::File(dir + "/tls").createDirectories();
    ::chmod((dir + "/ca").c_str(), 0700);
    ::chmod((dir + "/tls").c_str(), 0700);

    Poco::JSON::Object::Ptr ca_cfg = new Poco::JSON::Object;
    Issued issuing{pki::Certificate::adopt(pki::UniquePtr<X509>(X509_new())),
                   must(pki::PrivateKey::generate(pki::KeyType::kEcP256), "key")};
    std::vector<pki::Certificate> above;
    if (!o.import_ca_cert.empty()) {
      if (o.import_ca_key.empty()) throw InitError("--import-ca-cert needs --import-ca-key");
      std::optional<pki::SecretString> pass;
      if (!o.key_passphrase_file.empty()) {
        std::string p = readFile(o.key_passphrase_file);
        while (!p.empty() && (p.back() == '\n' || p.back() == '\r')) p.pop_back();
        pass = pki::SecretString(p);
        ca_cfg->set("key_passphrase_file", Poco::Path(o.key_passphrase_file).absolute().toString());
      } else if (!o.key_passphrase_env.empty()) {
        const char* v = std::getenv(o.key_passphrase_env.c_str());
        if (!v) throw InitError("$" + o.key_passphrase_env + " is not set");
        pass = pki::SecretString(v);
        ca_cfg->set("key_passphrase_env", o.key_passphrase_env);
      }
      std::string key_pem = readFile(o.import_ca_key);
      auto certs =
          must(pki::Certificate::chainFromPem(readFile(o.import_ca_cert)), o.import_ca_cert);
      issuing =
          Issued{certs.front(),
                 must(pki::PrivateKey::fromPem(key_pem, pass ? &*pass : nullptr), o.import_ca_key)};
      above.assign(certs.begin() + 1, certs.end());
      if (!o.import_ca_chain.empty()) {
        auto chain =
            must(pki::Certificate::chainFromPem(readFile(o.import_ca_chain)), o.import_ca_chain);
        above.insert(above.end(), chain.begin(), chain.end());
      }
      // Check it is usable before writing anything that refers to it.
      must(ca::CertificateAuthority::create("issuing", certs, issuing.key), "imported CA");
      writeNew(dir + "/ca/issuing-ca.pem", issuing.cert.toPem(), 0644);
      writeNew(dir + "/ca/issuing-ca.key", key_pem,
               0600);  // kept as given (encrypted stays encrypted)
      if (!above.empty()) writeNew(dir + "/ca/root-ca.pem", pki::toPemChain(above), 0644);
    } else {
      Issued root = makeCa("O=" + o.organization + ",CN=" + o.organization + " Root CA", key_type,
                           7300, 1, nullptr);
      issuing = makeCa("O=" + o.organization + ",CN=" + o.organization + " Issuing CA", key_type,
                       3650, 0, &root);
      above = {root.cert};
      writeNew(dir + "/ca/root-ca.pem", root.cert.toPem(), 0644);
      writeKey(dir + "/ca/root-ca.key", root.key);
      writeNew(dir + "/ca/issuing-ca.pem", issuing.cert.toPem(), 0644);
      writeKey(dir + "/ca/issuing-ca.key", issuing.key);
    }
    ca_cfg->set("certificate", "ca/issuing-ca.pem");
    ca_cfg->set("key", "ca/issuing-ca.key");
    if (!above.empty()) ca_cfg->set("chain", "ca/root-ca.pem");

    // The TLS identity of the HTTPS listeners, issued by the issuing CA.
    std::vector<std::string> sans = {"DNS:localhost", "IP:127.0.0.1", "IP:::1"};
    std::string host = hostName();
    if (!host.empty() && host != "localhost") sans.push_back("DNS:" + host);
    for (const auto& h : o.hostnames) sans.push_back("DNS:" + h);
    Issued tls =
        makeLeaf("O=" + o.organization + ",CN=" + (host.empty() ? "localhost" : host),
                 pki::KeyType::kEcP256, 825, issuing, {"serverAuth"}, sans, {"digitalSignature"});
    writeNew(dir + "/tls/server.pem", tls.cert.toPem() + issuing.cert.toPem(), 0644);
    writeKey(dir + "/tls/server.key", tls.key);

    // The SCEP registration authority: RSA, as SCEP clients encrypt to it (RFC 8894 2.1).
    Issued ra = makeLeaf("O=" + o.organization + ",CN=" + o.organization + " SCEP RA",
                         pki::KeyType::kRsa2048, 730, issuing, {}, {},
                         {"digitalSignature", "keyEncipherment"});
    writeNew(dir + "/ca/scep-ra.pem", ra.cert.toPem(), 0644);
    writeKey(dir + "/ca/scep-ra.key", ra.key);

    Poco::JSON::Object::Ptr anchors = new Poco::JSON::Object;
    std::vector<std::string> trust_names;
    int n = 0;
    for (const auto& f : o.trust_bootstrap_cas) {
      auto certs = must(pki::Certificate::chainFromPem(readFile(f)), f);
      std::string name = "bootstrap-" + std::to_string(++n);
      Poco::File(dir + "/trust").createDirectories();
      std::string rel = "trust/" + name + ".pem";
      writeNew(dir + "/" + rel, pki::toPemChain(certs), 0644);
      Poco::JSON::Object::Ptr set = new Poco::JSON::Object;
      set->set("certificates", array({rel}));
      anchors->set(name, set);
      trust_names.push_back(name);
    }
    if (o.demo) {
      Poco::File(dir + "/demo").createDirectories();
      Issued maker = makeCa("O=Demo Devices Inc,CN=Demo Manufacturer IDevID CA",
                            pki::KeyType::kEcP256, 7300, 0, nullptr);
      writeNew(dir + "/demo/manufacturer-ca.pem", maker.cert.toPem(), 0644);
      writeKey(dir + "/demo/manufacturer-ca.key", maker.key);
      for (int i = 1; i <= 3; ++i) {
        char id[16];
        snprintf(id, sizeof id, "DEMO-%04d", i);
        Issued dev =
            makeLeaf(std::string("O=Demo Devices Inc,CN=") + id + ",serialNumber=" + id,
                     pki::KeyType::kEcP256, 7300, maker, {"clientAuth"}, {}, {"digitalSignature"});
        char base[64];
        snprintf(base, sizeof base, "/demo/device-%04d", i);
        writeNew(dir + base + ".pem", dev.cert.toPem(), 0644);
        writeKey(dir + base + ".key", dev.key);
      }
      auto secret = must(pki::randomBytes(12), "random");
      writeNew(dir + "/demo/scep-challenge.txt", pki::hexEncode(secret) + "\n", 0600);
      Poco::JSON::Object::Ptr set = new Poco::JSON::Object;
      set->set("certificates", array({"demo/manufacturer-ca.pem"}));
      anchors->set("demo-manufacturer", set);
      trust_names.emplace_back("demo-manufacturer");
    }

    // The configuration file.
    Poco::JSON::Object::Ptr root = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    Poco::JSON::Object::Ptr listen = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    listen->set("est", "0.0.0.0:8443");
    listen->set("http", "0.0.0.0:8080");
    listen->set("coap", "0.0.0.0:5684");
    // The admin API stays on loopback unless the operator opens it deliberately.
    listen->set("admin", "127.0.0.1:9443");
    listen->set("metrics", "127.0.0.1:9464");
    root->set("listen", listen);
    Poco::JSON::Object::Ptr tls_cfg = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    tls_cfg->set("certificate", "tls/server.pem");
    tls_cfg->set("key", "tls/server.key");
    tls_cfg->set("min_version", "1.2");
    root->set("tls", tls_cfg);
    Poco::JSON::Object::Ptr db = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    db->set("driver", "sqlite");
    db->set("path", "enrolld.db");
    root->set("database", db);
    Poco::JSON::Object::Ptr cas = new Poco::JSON::Object;
    cas->set("issuing", ca_cfg);
    root->set("cas", cas);
    Poco::JSON::Object::Ptr scep = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    scep->set("ra_certificate", "ca/scep-ra.pem");
    scep->set("ra_key", "ca/scep-ra.key");
    root->set("scep", scep);
    Poco::JSON::Object::Ptr admin_cfg = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    admin_cfg->set("ca_certificate", "ca/admin-ca.pem");
    admin_cfg->set("ca_key", "ca/admin-ca.key");
    root->set("admin", admin_cfg);
    // Where CRLs and OCSP are published: written into every certificate (CDP and AIA).
    Poco::JSON::Object::Ptr publish = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    std::string public_host = !o.hostnames.empty() ? o.hostnames.front()
                              : host.empty()       ? std::string("localhost")
                                                   : host;
    publish->set("base_url",
                 o.public_url.empty() ? "http://" + public_host + ":8080" : o.public_url);
    root->set("publish", publish);
    root->set("trust_anchors", anchors);
    Poco::JSON::Object::Ptr profile = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    profile->set("lifetime_days", 365);
    profile->set("subject", "CN={device.id}");
    profile->set("subject_alt_names", array({"URI:urn:dev:serial:{device.id}"}));
    profile->set("extended_key_usage", array({"clientAuth"}));
    Poco::JSON::Object::Ptr profiles = new Poco::JSON::Object;
    profiles->set("device", profile);
    root->set("profiles", profiles);
    Poco::JSON::Object::Ptr labels = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    Poco::JSON::Object::Ptr def = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    def->set("ca", "issuing");
    def->set("profile", "device");
    def->set("bootstrap_trust", array(trust_names));
    def->set("allow_basic", true);
    if (o.demo) def->set("scep_challenge_file", "demo/scep-challenge.txt");
    labels->set("default", def);
    if (o.demo) {
      Poco::JSON::Object::Ptr approval = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
      approval->set("bootstrap_trust", array(trust_names));
      approval->set("manual_approval", true);
      approval->set("retry_after_seconds", 5);
      approval->set("scep_challenge_file", "demo/scep-challenge.txt");
      labels->set("approval", approval);
      Poco::JSON::Object::Ptr bound = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
      bound->set("bootstrap_trust", array(trust_names));
      bound->set("require_channel_binding", true);
      labels->set("bound", bound);
      // Old SCEP clients (scepclient) sign with SHA-1 and encrypt with DES: only on this label.
      Poco::JSON::Object::Ptr legacy = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
      legacy->set("bootstrap_trust", array(trust_names));
      legacy->set("scep_challenge_file", "demo/scep-challenge.txt");
      legacy->set("scep_legacy", true);
      labels->set("scep-legacy", legacy);
    }
    root->set("labels", labels);
    std::ostringstream json;
    root->stringify(json, 2);
    writeNew(dir + "/enrolld.json", json.str() + "\n", 0644);

    // Validate what we wrote the way serve will, then create the database.
    Config config = loadConfig(dir);
    Loaded loaded = loadPki(config);
    std::ostringstream ocsp_log;
    ensureOcspSigners(config, loaded, ocsp_log);  // the delegated OCSP responder
    auto store = openStore(config);
    if (!store) throw InitError("database: " + store.error().toString());

    // The admin API's own CA and a first operator with the admin role.
    std::time_t now = std::time(nullptr);
    auto admin_ca = must(admin::createAdminCa(o.organization, now), "admin CA");
    writeNew(dir + "/ca/admin-ca.pem", admin_ca.certificate.toPem(), 0644);
    writeKey(dir + "/ca/admin-ca.key", admin_ca.key);
    Poco::File(dir + "/admin").createDirectories();
    auto admin_key = must(pki::PrivateKey::generate(pki::KeyType::kEcP256), "key generation");
    auto admin_cert = must(admin::issueOperatorCertificate(admin_ca, "admin", store::Role::kAdmin,
                                                           admin_key.native(), now),
                           "operator certificate");
    writeNew(dir + "/admin/admin.pem", admin_cert.toPem(), 0644);
    writeKey(dir + "/admin/admin.key", admin_key);
    auto pinned =
        (*store)->addOperator({"admin", admin_cert.fingerprintSha256(), store::Role::kAdmin, now});
    if (!pinned) throw InitError("operator: " + pinned.error().toString());

    std::cout << "enrolld: created a CA in " << dir << "\n"
              << "  issuing CA   " << dir << "/ca/issuing-ca.pem (" << issuing.cert.subject()
              << ")\n"
              << "  trust anchor " << dir << "/ca/root-ca.pem (give this to devices and clients)\n"
              << "  TLS identity " << dir << "/tls/server.pem\n"
              << "  OCSP signer  " << dir << "/ca/issuing-ocsp.pem\n"
              << "  CRL and OCSP " << config.publish.base_url << " (publish.base_url)\n"
              << "  config       " << dir << "/enrolld.json\n"
              << "  database     " << config.path(config.database_path) << "\n";
    std::cout << "  admin API    operator certificate " << dir << "/admin/admin.pem (role admin)\n";
    if (o.demo)
      std::cout << "  demo devices " << dir
                << "/demo/device-000{1,2,3}.pem (bootstrap certificates)\n";
    std::cout << "Start it with: enrolld serve " << dir << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "enrolld init: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace enroll::app

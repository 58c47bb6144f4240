#include "server/app/ocsp_identity.h"

#include <fcntl.h>
#include <unistd.h>

#include <Poco/File.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "server/ca/serial_generator.h"

namespace enroll::app {

namespace {

std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/** Writes path atomically (temporary file, fsync, rename) with mode. */
void writeAtomically(const std::string& path, const std::string& data, mode_t mode) {
  std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL, mode);
  if (fd < 0) throw ConfigError("cannot create " + tmp + ": " + std::strerror(errno));
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n <= 0) {
      ::close(fd);
      throw ConfigError("cannot write " + tmp);
    }
    off += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    throw ConfigError("cannot rename " + tmp + ": " + std::strerror(errno));
}

}  // namespace

/** A responder certificate is renewed this long before it expires (unless its CA expires first). */
constexpr std::time_t kRenewBefore = std::time_t{30} * 86400;

std::vector<ca::OcspSigner> ensureOcspSigners(const Config& config, const Loaded& loaded,
                                              std::ostream& log) {
  std::vector<ca::OcspSigner> out;
  std::time_t now = std::time(nullptr);
  for (const auto& [name, cfg] : config.cas) {
    auto authority = loaded.cas.at(name);
    std::string cert_path = config.path(cfg.ocsp_certificate);
    std::string key_path = config.path(cfg.ocsp_key);
    std::string why;
    if (!Poco::File(cert_path).exists() || !Poco::File(key_path).exists()) {
      why = "created";
    } else {
      auto cert = pki::Certificate::fromPem(readText(cert_path));
      auto key = pki::PrivateKey::fromPem(readText(key_path));
      if (!cert) throw ConfigError("cas." + name + ".ocsp_certificate: " + cert.error().message);
      if (!key) throw ConfigError("cas." + name + ".ocsp_key: " + key.error().message);
      if (!cert->isSignedBy(authority->certificate())) {
        why = "replaced (not issued by the current CA)";
      } else if (cert->notAfter() - now < kRenewBefore &&
                 authority->certificate().notAfter() - now > kRenewBefore) {
        why = "renewed (expiring)";
      } else {
        out.push_back({authority, *cert, *key});
        continue;
      }
    }
    auto key = pki::PrivateKey::generate(pki::KeyType::kEcP256);
    if (!key) throw ConfigError("OCSP responder key: " + key.error().toString());
    auto serial = ca::SerialGenerator().next();
    if (!serial) throw ConfigError("serial: " + serial.error().toString());
    std::string org = authority->certificate().subjectEntry(NID_organizationName).value_or("");
    std::string subject =
        (org.empty() ? std::string() : "O=" + org + ",") + "CN=OCSP responder " + name;
    auto cert = authority->issueOcspResponder(key->native(), subject, serial->get(), now,
                                              kOcspResponderDays);
    if (!cert) throw ConfigError("OCSP responder of CA '" + name + "': " + cert.error().toString());
    writeAtomically(key_path, key->toPem().reveal(), 0600);
    writeAtomically(cert_path, cert->toPem(), 0644);
    log << "enrolld: OCSP responder certificate of CA '" << name << "' " << why << ": " << cert_path
        << "\n";
    out.push_back({authority, *cert, *key});
  }
  return out;
}

}  // namespace enroll::app

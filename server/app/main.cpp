// enrolld: the enrollment server. Subcommands: init, serve, passwd, pending, tokens, registry,
// stations, operators, revoke.
#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "provisioning/enrollment_token.h"
#include "provisioning/password_hash.h"
#include "provisioning/registry_import.h"
#include "server/admin/operator_identity.h"
#include "server/admin/selector_codec.h"
#include "server/app/config.h"
#include "server/app/init.h"
#include "server/app/offline_audit.h"
#include "server/app/revoke_command.h"
#include "server/app/serve.h"
#include "server/store/sqlite/sqlite_dialect.h"

namespace {

const char* kUsage = R"(enrolld - enrollment server for device fleets (EST over HTTPS)

Usage:
  enrolld init DIR [options]     create a CA, TLS identity, configuration and database in DIR
      --key-type T               CA key: ec-p256 (default), ec-p384, rsa-2048, rsa-3072, rsa-4096, ed25519
      --org NAME                 organization in the CA names (default "enrolld")
      --hostname NAME            extra DNS name for the TLS certificate (repeatable); the first
                                 one is the host of publish.base_url
      --public-url URL           publish.base_url: where CRLs and OCSP are reached, written into
                                 certificates (default http://<first --hostname or this host>:8080)
      --trust-bootstrap-ca FILE  trust this manufacturer CA (PEM) for bootstrap certificates
                                 on the default label (repeatable)
      --demo                     also create a demo manufacturer CA and three devices under DIR/demo
      --import-ca-cert FILE      use an existing issuing CA certificate (PEM; may carry its chain)
      --import-ca-key FILE       ... and its key (PEM, may be encrypted)
      --import-ca-chain FILE     ... and the certificates above it, up to the root
      --key-passphrase-file FILE passphrase of an encrypted imported key, read from a file
      --key-passphrase-env VAR   ... or from an environment variable (never from a flag)
  enrolld serve DIR [options]    run the server in the foreground
      --listen-est HOST:PORT     EST over HTTPS listener (default from enrolld.json, 0.0.0.0:8443)
      --listen-http HOST:PORT    plain HTTP listener: SCEP, CRLs (/crl/<ca>.crl, /crl/<ca>-delta.crl),
                                 CA certificates (/ca/<ca>.crt) and OCSP (/ocsp)
      --listen-coap HOST:PORT    EST-coaps listener, UDP/DTLS (default from enrolld.json, 0.0.0.0:5684)
      --listen-admin HOST:PORT   admin API listener, HTTPS (default from enrolld.json, 127.0.0.1:9443)
      --listen-metrics HOST:PORT Prometheus /metrics, plain HTTP (default from enrolld.json, 127.0.0.1:9464)
  enrolld passwd DIR USER [--device ID] [--label LABEL]
                                 set HTTP Basic credentials for EST; the password is read from
                                 $ENROLLD_PASSWORD or the first line of standard input
  enrolld pending DIR [list | approve ID | reject ID]
                                 list or decide enrollments held for manual approval
  enrolld tokens DIR create [--label L] [--count N | --device ID...] [--batch B] [--expires-days D]
                                 one-time enrollment tokens (single use, expiring, stored only
                                 hashed), printed once as CSV for the line's station: the EST
                                 Basic password or the SCEP challengePassword
  enrolld tokens DIR list [--label L] | revoke TOKEN
  enrolld registry DIR import FILE [--format csv|json]
                                 import devices (a factory export) into the registry in one
                                 transaction: every row is checked, and any problem refuses the
                                 whole file with a report per row; re-importing is harmless
  enrolld stations DIR add NAME CERT.pem | remove NAME | list
                                 provisioning stations (role "station"): a station's TLS
                                 certificate, pinned, enrolls the devices its CSRs name on labels
                                 with allow_stations; every issuance records the station
  enrolld registry DIR show ID   a device, its certificates and its enrollment history
  enrolld operators DIR add NAME --role viewer|operator|admin --out PREFIX | remove NAME | list
                                 operators of the admin API (offline, e.g. for recovery): add
                                 makes a key and a certificate from the admin CA and pins it
%REVOKE%  enrolld --help | --version

Signals: SIGTERM/SIGINT drain requests in flight and exit; SIGHUP reloads trust anchors,
profiles and labels from enrolld.json. Every configuration key: docs/configuration.md.
)";

int usageError(const std::string& msg) {
  std::cerr << "enrolld: " << msg << "\n(run enrolld --help)\n";
  return 2;
}

/** The configuration and store of a data folder (offline commands); throws on failure. */
std::unique_ptr<enroll::store::Store> openStoreOf(const std::string& dir) {
  auto config = enroll::app::loadConfig(dir);
  auto store = enroll::app::openStore(config);
  if (!store) throw std::runtime_error(store.error().toString());
  return std::move(store).value();
}

int runPasswd(const std::vector<std::string>& args) {
  if (args.size() < 2)
    return usageError("usage: enrolld passwd DIR USER [--device ID] [--label LABEL]");
  enroll::store::BasicCredentialRecord rec;
  rec.username = args[1];
  for (size_t i = 2; i < args.size(); ++i) {
    if (args[i] == "--device" && i + 1 < args.size())
      rec.device_id = args[++i];
    else if (args[i] == "--label" && i + 1 < args.size())
      rec.label = args[++i];
    else
      return usageError("unknown option " + args[i]);
  }
  std::string password;
  if (const char* env = std::getenv("ENROLLD_PASSWORD"))
    password = env;
  else
    std::getline(std::cin, password);
  if (password.size() < 8) {
    std::cerr << "enrolld passwd: the password must have at least 8 characters\n";
    return 1;
  }
  try {
    auto store = openStoreOf(args[0]);
    auto hash = enroll::provisioning::hashPassword(enroll::pki::SecretString(password));
    if (!hash) throw std::runtime_error(hash.error().toString());
    rec.password_hash = *hash;
    auto put = store->putCredential(rec);
    enroll::app::auditOffline(*store, "credentials.set", rec.username, put);
    if (!put) throw std::runtime_error(put.error().toString());
    std::cout << "enrolld: credentials for " << rec.username << " saved\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "enrolld passwd: " << e.what() << "\n";
    return 1;
  }
}

int runPending(const std::vector<std::string>& args) {
  if (args.empty()) return usageError("usage: enrolld pending DIR [list | approve ID | reject ID]");
  try {
    auto store = openStoreOf(args[0]);
    std::string verb = args.size() > 1 ? args[1] : "list";
    if (verb == "list") {
      auto all = store->listPending();
      if (!all) throw std::runtime_error(all.error().toString());
      for (const auto& p : *all) {
        std::cout << p.id << "\t" << enroll::store::pendingStateName(p.state) << "\t" << p.device_id
                  << "\n";
      }
      return 0;
    }
    if ((verb == "approve" || verb == "reject") && args.size() == 3) {
      auto state = verb == "approve" ? enroll::store::PendingRecord::State::kApproved
                                     : enroll::store::PendingRecord::State::kRejected;
      auto done = store->decidePending(args[2], state, std::time(nullptr));
      enroll::app::auditOffline(*store, "pending." + verb, args[2], done);
      if (!done) throw std::runtime_error(done.error().message);
      std::cout << "enrolld: " << args[2] << " " << verb << "d\n";
      return 0;
    }
    return usageError("usage: enrolld pending DIR [list | approve ID | reject ID]");
  } catch (const std::exception& e) {
    std::cerr << "enrolld pending: " << e.what() << "\n";
    return 1;
  }
}

int runTokens(const std::vector<std::string>& args) {
  const char* usage =
      "usage: enrolld tokens DIR create [--label L] [--count N | --device ID...] [--batch B] "
      "[--expires-days D] | list [--label L] | revoke TOKEN";
  if (args.size() < 2) return usageError(usage);
  std::string verb = args[1];
  std::string label, batch;
  std::vector<std::string> devices;
  int count = 0, days = 30;
  for (size_t i = 2; i < args.size(); ++i) {
    auto next = [&]() -> std::string {
      if (i + 1 >= args.size()) throw std::invalid_argument(args[i] + " needs a value");
      return args[++i];
    };
    if (args[i] == "--label")
      label = next();
    else if (args[i] == "--batch")
      batch = next();
    else if (args[i] == "--device")
      devices.push_back(next());
    else if (args[i] == "--count")
      count = std::atoi(next().c_str());
    else if (args[i] == "--expires-days")
      days = std::atoi(next().c_str());
    else if (verb == "revoke" && i == 2)
      continue;
    else
      return usageError("unknown option " + args[i]);
  }
  if (label == "default") label.clear();
  try {
    auto config = enroll::app::loadConfig(args[0]);
    auto store = openStoreOf(args[0]);
    std::time_t now = std::time(nullptr);
    if (verb == "create") {
      if (!config.labels.contains(label.empty() ? "default" : label)) {
        throw std::runtime_error("no label named '" + label + "'");
      }
      if (devices.empty() && count <= 0) return usageError("create needs --count N or --device ID");
      auto created = enroll::provisioning::createEnrollmentTokens(
          *store, {label, count, devices, batch, days}, now);
      enroll::app::auditOffline(*store, "tokens.create", (label.empty() ? "default" : label),
                                created);
      if (!created) {
        if (created.error().code == enroll::pki::ErrorCode::kInvalidArgument)
          return usageError(created.error().message);
        throw std::runtime_error(created.error().toString());
      }
      std::cout << "token,label,device_id,batch,expires_at\n";
      for (const auto& t : *created) {
        std::cout << t.text.reveal() << "," << (label.empty() ? "default" : label) << ","
                  << t.record.device_id << "," << batch << "," << t.record.expires_at << "\n";
      }
      return 0;
    }
    if (verb == "list") {
      auto all = store->listTokens(label);
      if (!all) throw std::runtime_error(all.error().toString());
      std::cout << "hash_prefix\tlabel\tdevice_id\tbatch\tstate\tserial\n";
      for (const auto& t : *all) {
        std::string state = enroll::provisioning::tokenState(t, now);
        std::cout << t.token_hash.substr(0, 12) << "\t" << (t.label.empty() ? "default" : t.label)
                  << "\t" << t.device_id << "\t" << t.batch << "\t" << state << "\t" << t.serial
                  << "\n";
      }
      return 0;
    }
    if (verb == "revoke" && args.size() >= 3) {
      auto done = store->revokeToken(enroll::provisioning::enrollmentTokenHash(args[2]), now);
      enroll::app::auditOffline(*store, "tokens.revoke",
                                enroll::provisioning::enrollmentTokenHash(args[2]), done);
      if (!done) throw std::runtime_error(done.error().message);
      std::cout << "enrolld: token revoked\n";
      return 0;
    }
    return usageError(usage);
  } catch (const std::invalid_argument& e) {
    return usageError(e.what());
  } catch (const std::exception& e) {
    std::cerr << "enrolld tokens: " << e.what() << "\n";
    return 1;
  }
}

std::string readWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int runRegistry(const std::vector<std::string>& args) {
  const char* usage = "usage: enrolld registry DIR import FILE [--format csv|json] | show ID";
  if (args.size() < 3) return usageError(usage);
  try {
    auto store = openStoreOf(args[0]);
    if (args[1] == "import") {
      const std::string& file = args[2];
      std::string format =
          file.size() > 5 && file.substr(file.size() - 5) == ".json" ? "json" : "csv";
      if (args.size() == 5 && args[3] == "--format")
        format = args[4];
      else if (args.size() != 3)
        return usageError(usage);
      if (format != "csv" && format != "json") return usageError("--format is csv or json");
      auto report = enroll::provisioning::importRegistry(*store, readWholeFile(file), format,
                                                         std::time(nullptr));
      enroll::app::auditOffline(*store, "registry.import", file,
                                report && !report->imported ? "rows_refused"
                                : report
                                    ? "ok"
                                    : std::string(enroll::pki::errorCodeName(report.error().code)));
      if (!report) throw std::runtime_error(report.error().toString());
      const auto& parsed = report->file;
      if (!report->imported) {
        std::cerr << "enrolld registry: " << file
                  << " refused, nothing imported: " << parsed.errors.size() << " problem(s)\n";
        size_t shown = 0;
        for (const auto& e : parsed.errors) {
          if (++shown > 100) break;
          std::cerr << "  " << (e.row == 0 ? std::string("file") : "row " + std::to_string(e.row))
                    << ": " << e.reason << "\n";
        }
        if (parsed.errors.size() > 100)
          std::cerr << "  ... and " << parsed.errors.size() - 100 << " more\n";
        return 1;
      }
      int64_t added = report->added;
      std::cout << "enrolld: imported " << parsed.devices.size() << " device(s): " << added
                << " new, " << static_cast<int64_t>(parsed.devices.size()) - added
                << " already known\n";
      return 0;
    }
    if (args[1] == "show") {
      auto d = store->findDevice(args[2]);
      if (!d) throw std::runtime_error(d.error().message);
      std::cout << "id            " << d->id << "\nmodel         " << d->model << "\nbatch         "
                << d->batch << "\nproduct_line  " << d->product_line << "\nlabels        "
                << d->labels << "\nstate         " << enroll::store::deviceStateName(d->state)
                << "\nenrollments   " << d->enroll_count << "\n";
      auto certs = store->certificatesOfDevice(d->id);
      if (certs) {
        for (const auto& c : *certs) {
          std::cout << "certificate   " << c.serial << " "
                    << enroll::store::certStatusName(c.status) << " " << c.subject
                    << " not_after=" << c.not_after << "\n";
        }
      }
      auto events = store->eventsOfDevice(d->id);
      if (events) {
        for (const auto& e : *events) {
          std::cout << "event         " << e.at << " " << e.protocol << " " << e.operation << " "
                    << e.outcome << " " << e.serial << "\n";
        }
      }
      return 0;
    }
    return usageError(usage);
  } catch (const std::exception& e) {
    std::cerr << "enrolld registry: " << e.what() << "\n";
    return 1;
  }
}

/**
 * Operators of the admin API, offline: for the first steps and for recovery when no admin
 * certificate is at hand. The key is made here and written with mode 0600.
 */
int runOperators(const std::vector<std::string>& args) {
  const char* usage =
      "usage: enrolld operators DIR add NAME --role viewer|operator|admin --out PREFIX | "
      "remove NAME | list";
  if (args.size() < 2) return usageError(usage);
  try {
    auto config = enroll::app::loadConfig(args[0]);
    auto store = openStoreOf(args[0]);
    if (args[1] == "list" && args.size() == 2) {
      auto all = store->listOperators();
      if (!all) throw std::runtime_error(all.error().toString());
      for (const auto& op : *all)
        std::cout << op.name << "\t" << enroll::store::roleName(op.role) << "\t"
                  << op.certificate_sha256 << "\n";
      return 0;
    }
    if (args[1] == "remove" && args.size() == 3) {
      auto removed = store->removeOperator(args[2]);
      enroll::app::auditOffline(*store, "operators.remove", args[2], removed);
      if (!removed) throw std::runtime_error(removed.error().message);
      std::cout << "enrolld: operator " << args[2] << " removed\n";
      return 0;
    }
    if (args[1] == "add" && args.size() == 7 && args[3] == "--role" && args[5] == "--out") {
      enroll::store::Role role;
      if (!enroll::store::parseRole(args[4], &role))
        return usageError("--role is viewer, operator or admin");
      auto identity = enroll::app::loadAdminIdentity(config);
      if (!identity.key) throw std::runtime_error("admin.ca_key is not configured");
      enroll::admin::AdminCa ca{identity.certificate, *identity.key};
      auto key = enroll::pki::PrivateKey::generate(enroll::pki::KeyType::kEcP256);
      if (!key) throw std::runtime_error(key.error().toString());
      std::time_t now = std::time(nullptr);
      auto cert = enroll::admin::issueOperatorCertificate(ca, args[2], role, key->native(), now);
      if (!cert) throw std::runtime_error(cert.error().message);
      const std::string& prefix = args[6];
      std::ifstream exists_key(prefix + ".key"), exists_pem(prefix + ".pem");
      if (exists_key || exists_pem)
        throw std::runtime_error(prefix + ".key or " + prefix + ".pem exists already");
      auto added = store->addOperator({args[2], cert->fingerprintSha256(), role, now});
      enroll::app::auditOffline(*store, "operators.add", args[2], added);
      if (!added)
        throw std::runtime_error(added.error().code == enroll::pki::ErrorCode::kAlreadyExists
                                     ? "an operator named " + args[2] + " exists"
                                     : added.error().toString());
      {
        std::ofstream pem(prefix + ".pem");
        pem << cert->toPem();
      }
      int fd = ::open((prefix + ".key").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
      std::string key_pem = key->toPem().reveal();
      if (fd < 0 ||
          ::write(fd, key_pem.data(), key_pem.size()) != static_cast<ssize_t>(key_pem.size())) {
        if (fd >= 0) ::close(fd);
        throw std::runtime_error("cannot write " + prefix + ".key");
      }
      ::close(fd);
      std::cout << "enrolld: operator " << args[2] << " (" << args[4] << "): " << prefix << ".pem, "
                << prefix << ".key\n";
      return 0;
    }
    return usageError(usage);
  } catch (const std::exception& e) {
    std::cerr << "enrolld operators: " << e.what() << "\n";
    return 1;
  }
}

int runStations(const std::vector<std::string>& args) {
  const char* usage = "usage: enrolld stations DIR add NAME CERT.pem | remove NAME | list";
  if (args.size() < 2) return usageError(usage);
  try {
    auto store = openStoreOf(args[0]);
    if (args[1] == "add" && args.size() == 4) {
      auto cert = enroll::pki::Certificate::fromPem(readWholeFile(args[3]));
      if (!cert) throw std::runtime_error(args[3] + ": " + cert.error().message);
      auto added = store->addStation({args[2], cert->fingerprintSha256(), std::time(nullptr)});
      enroll::app::auditOffline(*store, "stations.add", args[2], added);
      if (!added)
        throw std::runtime_error(added.error().code == enroll::pki::ErrorCode::kAlreadyExists
                                     ? "a station with that name or certificate exists"
                                     : added.error().toString());
      std::cout << "enrolld: station " << args[2] << " added (" << cert->subject() << ")\n";
      return 0;
    }
    if (args[1] == "remove" && args.size() == 3) {
      auto removed = store->removeStation(args[2]);
      enroll::app::auditOffline(*store, "stations.remove", args[2], removed);
      if (!removed) throw std::runtime_error(removed.error().message);
      std::cout << "enrolld: station " << args[2] << " removed\n";
      return 0;
    }
    if (args[1] == "list" && args.size() == 2) {
      auto all = store->listStations();
      if (!all) throw std::runtime_error(all.error().toString());
      for (const auto& st : *all) std::cout << st.name << "\t" << st.certificate_sha256 << "\n";
      return 0;
    }
    return usageError(usage);
  } catch (const std::exception& e) {
    std::cerr << "enrolld stations: " << e.what() << "\n";
    return 1;
  }
}

int runRevoke(const std::vector<std::string>& args) { return enroll::app::runRevokeCommand(args); }

}  // namespace

namespace {

int runCommand(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::string usage = kUsage;
    std::string revoke = enroll::app::kRevokeUsage;
    revoke.replace(revoke.find("%SELECTORS%"), 11, enroll::admin::kSelectorFlagsUsage);
    usage.replace(usage.find("%REVOKE%"), 8, revoke);
    std::cout << usage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::cout << "enrolld " << ENROLLD_VERSION << "\n";
    return 0;
  }
  std::string cmd = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  auto value = [&](size_t& i) -> std::string {
    if (i + 1 >= rest.size()) throw std::invalid_argument(rest[i] + " needs a value");
    return rest[++i];
  };
  try {
    if (cmd == "init") {
      enroll::app::InitOptions o;
      for (size_t i = 0; i < rest.size(); ++i) {
        const std::string& a = rest[i];
        if (a == "--key-type")
          o.key_type = value(i);
        else if (a == "--org")
          o.organization = value(i);
        else if (a == "--hostname")
          o.hostnames.push_back(value(i));
        else if (a == "--public-url")
          o.public_url = value(i);
        else if (a == "--trust-bootstrap-ca")
          o.trust_bootstrap_cas.push_back(value(i));
        else if (a == "--demo")
          o.demo = true;
        else if (a == "--import-ca-cert")
          o.import_ca_cert = value(i);
        else if (a == "--import-ca-key")
          o.import_ca_key = value(i);
        else if (a == "--import-ca-chain")
          o.import_ca_chain = value(i);
        else if (a == "--key-passphrase-file")
          o.key_passphrase_file = value(i);
        else if (a == "--key-passphrase-env")
          o.key_passphrase_env = value(i);
        else if (!a.empty() && a[0] == '-')
          return usageError("unknown option " + a);
        else if (o.dir.empty())
          o.dir = a;
        else
          return usageError("unexpected argument " + a);
      }
      if (o.dir.empty()) return usageError("init needs a folder");
      return enroll::app::runInit(o);
    }
    if (cmd == "serve") {
      enroll::app::ServeOptions o;
      for (size_t i = 0; i < rest.size(); ++i) {
        const std::string& a = rest[i];
        if (a == "--listen-est")
          o.listen_overrides["est"] = value(i);
        else if (a == "--listen-http")
          o.listen_overrides["http"] = value(i);
        else if (a == "--listen-coap")
          o.listen_overrides["coap"] = value(i);
        else if (a == "--listen-admin")
          o.listen_overrides["admin"] = value(i);
        else if (a == "--listen-metrics")
          o.listen_overrides["metrics"] = value(i);
        else if (!a.empty() && a[0] == '-')
          return usageError("unknown option " + a);
        else if (o.dir.empty())
          o.dir = a;
        else
          return usageError("unexpected argument " + a);
      }
      if (o.dir.empty()) return usageError("serve needs a folder");
      return enroll::app::runServe(o);
    }
    if (cmd == "passwd") return runPasswd(rest);
    if (cmd == "pending") return runPending(rest);
    if (cmd == "revoke") return runRevoke(rest);
    if (cmd == "tokens") return runTokens(rest);
    if (cmd == "registry") return runRegistry(rest);
    if (cmd == "stations") return runStations(rest);
    if (cmd == "operators") return runOperators(rest);
  } catch (const std::invalid_argument& e) {
    return usageError(e.what());
  }
  return usageError("unknown command " + cmd);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return runCommand(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "enrolld: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "enrolld: unexpected error\n";
  }
  return 1;
}

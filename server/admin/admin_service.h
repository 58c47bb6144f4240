#pragma once
/**
 * The admin API (JSON over HTTPS, /api/v1/...) as request in, response out: no sockets, no POCO
 * networking; server/transport/admin_handler.cpp adapts it to HTTP. Every call, allowed or not,
 * is written to the audit log with the operator who made it.
 *
 * Roles (store::Role): viewer reads; operator also imports the registry, makes and revokes
 * tokens, decides pending requests, changes device states and revokes certificates (bulk
 * revocations run as background jobs, revocation_jobs.h); admin also
 * manages stations and operators. docs/admin-api.md lists every route.
 */
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "pki/clock.h"
#include "server/admin/operator_identity.h"
#include "server/admin/revocation_jobs.h"
#include "server/store/store.h"

namespace enroll::admin {

struct AdminRequest {
  std::string method;
  std::string path;  ///< without the query string, still percent-encoded
  std::vector<std::pair<std::string, std::string>> query;  ///< decoded
  std::string content_type;
  std::string body;
  Principal principal;  ///< who is calling (the transport authenticated them)
};

struct AdminResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string action;   ///< for the log: "devices.list"
  std::string outcome;  ///< "ok" or an error code name
};

/** What the admin API works over. */
struct AdminContext {
  store::Store& store;
  const pki::Clock& clock;
  /** True when a label of that name is configured ("" or "default" is the default label). */
  std::function<bool(const std::string&)> label_exists;
  /** Signs operator certificates for POST /operators; null: that route answers 503. */
  const AdminCa* admin_ca = nullptr;
  /** Runs bulk revocations; null: the revocation routes answer 503. */
  RevocationJobs* revocations = nullptr;
};

class AdminService {
 public:
  explicit AdminService(AdminContext context) : ctx_(std::move(context)) {}
  /** Routes, checks the role, runs, audits. Never throws. */
  AdminResponse handle(const AdminRequest& request);

 private:
  struct Reply {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    std::string target;  ///< what the call acted on, for the audit entry
  };
  using Params = std::vector<std::string>;
  using Handler = pki::Result<Reply> (AdminService::*)(const AdminRequest&, const Params&);
  struct Route {
    const char* method;
    const char* pattern;  ///< "/api/v1/devices/{}": {} matches one path segment
    store::Role min_role;
    const char* action;
    Handler handler;
  };
  static const std::vector<Route>& routes();

  pki::Result<Reply> whoami(const AdminRequest& r, const Params& p);
  pki::Result<Reply> listDevices(const AdminRequest& r, const Params& p);
  pki::Result<Reply> showDevice(const AdminRequest& r, const Params& p);
  pki::Result<Reply> setDeviceState(const AdminRequest& r, const Params& p);
  pki::Result<Reply> importRegistry(const AdminRequest& r, const Params& p);
  pki::Result<Reply> showCertificate(const AdminRequest& r, const Params& p);
  pki::Result<Reply> listCertificates(const AdminRequest& r, const Params& p);
  pki::Result<Reply> startRevocation(const AdminRequest& r, const Params& p);
  pki::Result<Reply> showJob(const AdminRequest& r, const Params& p);
  pki::Result<Reply> stopJob(const AdminRequest& r, const Params& p);
  pki::Result<Reply> createTokens(const AdminRequest& r, const Params& p);
  pki::Result<Reply> listTokens(const AdminRequest& r, const Params& p);
  pki::Result<Reply> revokeToken(const AdminRequest& r, const Params& p);
  pki::Result<Reply> listStations(const AdminRequest& r, const Params& p);
  pki::Result<Reply> addStation(const AdminRequest& r, const Params& p);
  pki::Result<Reply> removeStation(const AdminRequest& r, const Params& p);
  pki::Result<Reply> listPending(const AdminRequest& r, const Params& p);
  pki::Result<Reply> decidePending(const AdminRequest& r, const Params& p);
  pki::Result<Reply> listOperators(const AdminRequest& r, const Params& p);
  pki::Result<Reply> addOperator(const AdminRequest& r, const Params& p);
  pki::Result<Reply> removeOperator(const AdminRequest& r, const Params& p);
  pki::Result<Reply> readAudit(const AdminRequest& r, const Params& p);

  void audit(const AdminRequest& r, const char* action, const std::string& target,
             const AdminResponse& response);

  AdminContext ctx_;
};

}  // namespace enroll::admin

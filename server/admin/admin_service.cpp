#include "server/admin/admin_service.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>

#include <charconv>
#include <sstream>

#include "pki/certificate_request.h"
#include "provisioning/enrollment_token.h"
#include "provisioning/registry_import.h"
#include "server/admin/selector_codec.h"

namespace enroll::admin {

using pki::ErrorCode;
using pki::makeError;
using Poco::JSON::Array;
using Poco::JSON::Object;
using store::Role;

namespace {

std::string stringify(const Object::Ptr& o) {
  std::ostringstream os;
  o->stringify(os);
  return os.str();
}

std::string errorBody(const pki::Error& e) {
  Object::Ptr err = new Object;
  err->set("code", std::string(pki::errorCodeName(e.code)));
  err->set("message", e.message);
  Object::Ptr o = new Object;
  o->set("error", err);
  return stringify(o);
}

/** The body as a JSON object; Malformed with the parser's reason otherwise. */
pki::Result<Object::Ptr> jsonBody(const AdminRequest& r) {
  if (r.body.empty()) return makeError(ErrorCode::kMalformed, "a JSON object body is required");
  try {
    Poco::JSON::Parser parser;
    auto v = parser.parse(r.body);
    auto o = v.extract<Object::Ptr>();
    if (!o) return makeError(ErrorCode::kMalformed, "the body must be a JSON object");
    return o;
  } catch (const Poco::Exception& e) {
    return makeError(ErrorCode::kMalformed, "the body is not valid JSON: " + e.message());
  } catch (const std::exception&) {
    return makeError(ErrorCode::kMalformed, "the body must be a JSON object");
  }
}

/** A string member; InvalidArgument when present with another type. */
pki::Result<std::string> stringField(const Object::Ptr& o, const std::string& key,
                                     const std::string& fallback = {}) {
  if (!o->has(key) || o->isNull(key)) return fallback;
  auto v = o->get(key);
  if (!v.isString()) return makeError(ErrorCode::kInvalidArgument, key + " must be a string");
  return v.toString();
}

pki::Result<int64_t> intField(const Object::Ptr& o, const std::string& key, int64_t fallback) {
  if (!o->has(key) || o->isNull(key)) return fallback;
  auto v = o->get(key);
  if (!v.isInteger()) return makeError(ErrorCode::kInvalidArgument, key + " must be an integer");
  return v.convert<Poco::Int64>();
}

pki::Result<std::vector<std::string>> stringArrayField(const Object::Ptr& o,
                                                       const std::string& key) {
  std::vector<std::string> out;
  if (!o->has(key) || o->isNull(key)) return out;
  auto a = o->getArray(key);
  if (!a) return makeError(ErrorCode::kInvalidArgument, key + " must be an array of strings");
  for (size_t i = 0; i < a->size(); ++i) {
    auto v = a->get(static_cast<unsigned>(i));
    if (!v.isString())
      return makeError(ErrorCode::kInvalidArgument, key + " must be an array of strings");
    out.push_back(v.toString());
  }
  return out;
}

/** Refuses members we do not know, so that a typo is an error instead of a silent default. */
pki::Result<void> onlyKeys(const Object::Ptr& o, std::initializer_list<const char*> known) {
  for (const auto& [k, v] : *o) {
    bool ok = false;
    for (const char* n : known) ok = ok || k == n;
    if (!ok) return makeError(ErrorCode::kInvalidArgument, "unknown field '" + k + "'");
  }
  return pki::ok();
}

std::string queryValue(const AdminRequest& r, const std::string& key) {
  for (const auto& [k, v] : r.query)
    if (k == key) return v;
  return {};
}

pki::Result<int> limitOf(const AdminRequest& r, int fallback, int max) {
  std::string text = queryValue(r, "limit");
  if (text.empty()) return fallback;
  int v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < 1 || v > max)
    return makeError(ErrorCode::kInvalidArgument,
                     "limit must be a number from 1 to " + std::to_string(max));
  return v;
}

std::string labelName(const std::string& l) { return l.empty() ? "default" : l; }
std::string labelKey(const std::string& l) { return l == "default" ? "" : l; }

Object::Ptr deviceJson(const store::DeviceRecord& d) {
  Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  o->set("id", d.id);
  o->set("state", store::deviceStateName(d.state));
  o->set("model", d.model);
  o->set("batch", d.batch);
  o->set("product_line", d.product_line);
  try {
    Poco::JSON::Parser parser;
    o->set("labels", parser.parse(d.labels.empty() ? "{}" : d.labels));
  } catch (const Poco::Exception&) {
    o->set("labels", d.labels);
  }
  o->set("bootstrap_fingerprint", d.bootstrap_fingerprint);
  o->set("ek_hash", d.ek_hash);
  o->set("enroll_count", static_cast<Poco::Int64>(d.enroll_count));
  o->set("created_at", static_cast<Poco::Int64>(d.created_at));
  o->set("updated_at", static_cast<Poco::Int64>(d.updated_at));
  return o;
}

Object::Ptr certificateJson(const store::CertificateRecord& c) {
  Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  o->set("serial", c.serial);
  o->set("status", store::certStatusName(c.status));
  o->set("device_id", c.device_id);
  o->set("subject", c.subject);
  o->set("issuer", c.issuer);
  o->set("label", labelName(c.label));
  o->set("profile", c.profile);
  o->set("protocol", c.protocol);
  o->set("not_before", static_cast<Poco::Int64>(c.not_before));
  o->set("not_after", static_cast<Poco::Int64>(c.not_after));
  o->set("issued_at", static_cast<Poco::Int64>(c.issued_at));
  if (c.status != store::CertStatus::kGood) {
    o->set("revoked_at", static_cast<Poco::Int64>(c.revoked_at));
    o->set("revocation_reason", c.revocation_reason);
  }
  o->set("station", c.station);
  o->set("bootstrap_fingerprint", c.bootstrap_fingerprint);
  return o;
}

Object::Ptr eventJson(const store::EnrollmentEvent& e) {
  Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  o->set("at", static_cast<Poco::Int64>(e.at));
  o->set("protocol", e.protocol);
  o->set("label", labelName(e.label));
  o->set("operation", e.operation);
  o->set("outcome", e.outcome);
  o->set("serial", e.serial);
  o->set("peer", e.peer);
  o->set("reason", e.reason);
  return o;
}

Object::Ptr tokenJson(const store::TokenRecord& t, std::time_t now) {
  Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  o->set("hash", t.token_hash);
  o->set("label", labelName(t.label));
  o->set("device_id", t.device_id);
  o->set("batch", t.batch);
  o->set("state", provisioning::tokenState(t, now));
  o->set("created_at", static_cast<Poco::Int64>(t.created_at));
  o->set("expires_at", static_cast<Poco::Int64>(t.expires_at));
  o->set("serial", t.serial);
  return o;
}

Object::Ptr auditJson(const store::AuditEntry& a) {
  Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  o->set("seq", static_cast<Poco::Int64>(a.seq));
  o->set("at", static_cast<Poco::Int64>(a.at));
  o->set("actor", a.actor);
  o->set("action", a.action);
  o->set("target", a.target);
  o->set("outcome", a.outcome);
  o->set("detail", a.detail);
  o->set("prev_hash", a.prev_hash);
  o->set("hash", a.hash);
  return o;
}

std::string decodeSegment(const std::string& s) {
  std::string out;
  try {
    Poco::URI::decode(s, out);
  } catch (const Poco::Exception&) {
    return s;
  }
  return out;
}

/** Matches "/api/v1/devices/{}" against a path; fills params with the decoded {} segments. */
bool matchPath(const std::string& pattern, const std::string& path,
               std::vector<std::string>* params) {
  size_t i = 0;
  size_t j = 0;
  params->clear();
  while (i < pattern.size() && j <= path.size()) {
    if (pattern.compare(i, 2, "{}") == 0) {
      size_t end = path.find('/', j);
      if (end == std::string::npos) end = path.size();
      if (end == j) return false;
      params->push_back(decodeSegment(path.substr(j, end - j)));
      j = end;
      i += 2;
    } else {
      if (j >= path.size() || pattern[i] != path[j]) return false;
      ++i;
      ++j;
    }
  }
  return i == pattern.size() && j == path.size();
}

}  // namespace

const std::vector<AdminService::Route>& AdminService::routes() {
  static const std::vector<Route> kRoutes = {
      {"GET", "/api/v1/whoami", Role::kViewer, "whoami", &AdminService::whoami},
      {"GET", "/api/v1/devices", Role::kViewer, "devices.list", &AdminService::listDevices},
      {"GET", "/api/v1/devices/{}", Role::kViewer, "devices.show", &AdminService::showDevice},
      {"POST", "/api/v1/devices/{}/state", Role::kOperator, "devices.state",
       &AdminService::setDeviceState},
      {"POST", "/api/v1/registry/import", Role::kOperator, "registry.import",
       &AdminService::importRegistry},
      {"GET", "/api/v1/certificates", Role::kViewer, "certificates.list",
       &AdminService::listCertificates},
      {"GET", "/api/v1/certificates/{}", Role::kViewer, "certificates.show",
       &AdminService::showCertificate},
      {"POST", "/api/v1/revocations", Role::kOperator, "revocations.start",
       &AdminService::startRevocation},
      {"GET", "/api/v1/jobs/{}", Role::kViewer, "jobs.show", &AdminService::showJob},
      {"DELETE", "/api/v1/jobs/{}", Role::kOperator, "jobs.stop", &AdminService::stopJob},
      {"POST", "/api/v1/tokens", Role::kOperator, "tokens.create", &AdminService::createTokens},
      {"GET", "/api/v1/tokens", Role::kViewer, "tokens.list", &AdminService::listTokens},
      {"DELETE", "/api/v1/tokens/{}", Role::kOperator, "tokens.revoke", &AdminService::revokeToken},
      {"GET", "/api/v1/stations", Role::kViewer, "stations.list", &AdminService::listStations},
      {"POST", "/api/v1/stations", Role::kAdmin, "stations.add", &AdminService::addStation},
      {"DELETE", "/api/v1/stations/{}", Role::kAdmin, "stations.remove",
       &AdminService::removeStation},
      {"GET", "/api/v1/pending", Role::kViewer, "pending.list", &AdminService::listPending},
      {"POST", "/api/v1/pending/{}/{}", Role::kOperator, "pending.decide",
       &AdminService::decidePending},
      {"GET", "/api/v1/operators", Role::kAdmin, "operators.list", &AdminService::listOperators},
      {"POST", "/api/v1/operators", Role::kAdmin, "operators.add", &AdminService::addOperator},
      {"DELETE", "/api/v1/operators/{}", Role::kAdmin, "operators.remove",
       &AdminService::removeOperator},
      {"GET", "/api/v1/audit", Role::kViewer, "audit.read", &AdminService::readAudit},
  };
  return kRoutes;
}

AdminResponse AdminService::handle(const AdminRequest& request) {
  AdminResponse response;
  const Route* route = nullptr;
  bool path_known = false;
  Params params;
  for (const auto& candidate : routes()) {
    if (!matchPath(candidate.pattern, request.path, &params)) continue;
    path_known = true;
    if (request.method == candidate.method) {
      route = &candidate;
      break;
    }
  }
  if (!route) {
    pki::Error e = path_known ? makeError(ErrorCode::kInvalidArgument,
                                          request.method + " is not allowed on " + request.path)
                              : makeError(ErrorCode::kNotFound, "no such resource");
    response.status = path_known ? 405 : 404;
    response.body = errorBody(e);
    response.action = "unknown";
    response.outcome = std::string(pki::errorCodeName(e.code));
    audit(request, "unknown", request.path.substr(0, 200), response);
    return response;
  }
  response.action = route->action;
  std::string target = params.empty() ? std::string() : params.front();
  if (request.principal.role < route->min_role) {
    auto e = makeError(ErrorCode::kPermissionDenied,
                       "role " + store::roleName(request.principal.role) + " may not " +
                           route->action + " (needs " + store::roleName(route->min_role) + ")");
    response.status = 403;
    response.body = errorBody(e);
    response.outcome = "permission_denied";
    audit(request, route->action, target, response);
    return response;
  }
  pki::Result<Reply> reply = makeError(ErrorCode::kInternal, "internal error");
  try {
    reply = (this->*route->handler)(request, params);
  } catch (const std::exception& e) {
    reply = makeError(ErrorCode::kInternal, "internal error", e.what());
  }
  if (reply) {
    response.status = reply->status;
    response.body = std::move(reply->body);
    response.content_type = reply->content_type;
    response.outcome = reply->status < 400 ? "ok" : "refused";
    if (!reply->target.empty()) target = reply->target;
  } else {
    response.status = pki::httpStatusFor(reply.error().code);
    response.body = errorBody(reply.error());
    response.outcome = std::string(pki::errorCodeName(reply.error().code));
    if (!reply.error().detail.empty()) response.outcome += ": " + reply.error().detail;
  }
  audit(request, route->action, target, response);
  return response;
}

void AdminService::audit(const AdminRequest& r, const char* action, const std::string& target,
                         const AdminResponse& response) {
  store::AuditEntry e;
  e.at = ctx_.clock.now();
  e.actor = "operator:" + r.principal.name;
  e.action = std::string("admin.") + action;
  e.target = target;
  e.outcome = response.status < 400 ? "ok" : response.outcome;
  Object::Ptr detail = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  detail->set("method", r.method);
  detail->set("path", r.path.substr(0, 200));
  detail->set("status", response.status);
  detail->set("role", store::roleName(r.principal.role));
  e.detail = stringify(detail);
  // A failed audit write is reported in the response's log line; the store being down fails the
  // call itself anyway.
  (void)ctx_.store.appendAudit(e);
}

// ---- routes

pki::Result<AdminService::Reply> AdminService::whoami(const AdminRequest& r, const Params&) {
  Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  o->set("name", r.principal.name);
  o->set("role", store::roleName(r.principal.role));
  o->set("certificate_sha256", r.principal.certificate_sha256);
  return Reply{200, stringify(o), "application/json", {}};
}

pki::Result<AdminService::Reply> AdminService::listDevices(const AdminRequest& r, const Params&) {
  store::DeviceFilter f;
  for (const auto& [k, v] : r.query) {
    if (k == "state") {
      f.state = v;
    } else if (k == "model") {
      f.model = v;
    } else if (k == "batch") {
      f.batch = v;
    } else if (k == "product_line") {
      f.product_line = v;
    } else if (k == "label") {
      size_t eq = v.find('=');
      if (eq == std::string::npos || eq == 0)
        return makeError(ErrorCode::kInvalidArgument, "label filters are key=value");
      f.labels[v.substr(0, eq)] = v.substr(eq + 1);
    } else if (k == "after") {
      f.after_id = v;
    } else if (k != "limit") {
      return makeError(ErrorCode::kInvalidArgument, "unknown filter '" + k + "'");
    }
  }
  ENROLL_TRY(f.limit, limitOf(r, 100, 10000));
  ENROLL_TRY(auto devices, ctx_.store.listDevices(f));
  Array::Ptr items = new Array;
  for (const auto& d : devices) items->add(deviceJson(d));
  Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  o->set("devices", items);
  if (static_cast<int>(devices.size()) == f.limit) o->set("next", devices.back().id);
  return Reply{200, stringify(o), "application/json", {}};
}

pki::Result<AdminService::Reply> AdminService::showDevice(const AdminRequest&, const Params& p) {
  ENROLL_TRY(auto device, ctx_.store.findDevice(p[0]));
  ENROLL_TRY(auto certs, ctx_.store.certificatesOfDevice(p[0]));
  ENROLL_TRY(auto events, ctx_.store.eventsOfDevice(p[0]));
  Object::Ptr o = deviceJson(device);
  Array::Ptr ca = new Array;
  for (const auto& c : certs) ca->add(certificateJson(c));
  o->set("certificates", ca);
  Array::Ptr ea = new Array;
  for (const auto& e : events) ea->add(eventJson(e));
  o->set("history", ea);
  return Reply{200, stringify(o), "application/json", {}};
}

pki::Result<AdminService::Reply> AdminService::setDeviceState(const AdminRequest& r,
                                                              const Params& p) {
  ENROLL_TRY(auto body, jsonBody(r));
  ENROLL_CHECK(onlyKeys(body, {"state"}));
  ENROLL_TRY(std::string name, stringField(body, "state"));
  store::DeviceState state;
  if (!store::parseDeviceState(name, &state))
    return makeError(ErrorCode::kInvalidArgument,
                     "state must be expected, enrolled, blocked or retired");
  ENROLL_CHECK(ctx_.store.setDeviceState(p[0], state, ctx_.clock.now()));
  ENROLL_TRY(auto device, ctx_.store.findDevice(p[0]));
  return Reply{200, stringify(deviceJson(device)), "application/json", {}};
}

pki::Result<AdminService::Reply> AdminService::importRegistry(const AdminRequest& r,
                                                              const Params&) {
  std::string format = queryValue(r, "format");
  if (format.empty()) {
    format = r.content_type.find("json") != std::string::npos ? "json" : "csv";
  }
  if (format != "csv" && format != "json")
    return makeError(ErrorCode::kInvalidArgument, "format is csv or json");
  if (r.body.empty()) return makeError(ErrorCode::kMalformed, "the body is the file to import");
  ENROLL_TRY(auto report,
             provisioning::importRegistry(ctx_.store, r.body, format, ctx_.clock.now()));
  Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  o->set("imported", report.imported);
  o->set("rows", static_cast<Poco::Int64>(report.file.devices.size() + report.file.errors.size()));
  o->set("new", static_cast<Poco::Int64>(report.added));
  o->set(
      "known",
      static_cast<Poco::Int64>(
          report.imported ? static_cast<int64_t>(report.file.devices.size()) - report.added : 0));
  Array::Ptr errors = new Array;
  for (const auto& e : report.file.errors) {
    Object::Ptr eo = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    eo->set("row", static_cast<Poco::Int64>(e.row));
    eo->set("reason", e.reason);
    errors->add(eo);
  }
  o->set("errors", errors);
  // 422: the file is well formed as a request but some rows are wrong; nothing was imported.
  return Reply{report.imported ? 200 : 422, stringify(o), "application/json",
               std::to_string(report.file.devices.size()) + " rows"};
}

pki::Result<AdminService::Reply> AdminService::showCertificate(const AdminRequest&,
                                                               const Params& p) {
  ENROLL_TRY(auto c, ctx_.store.findCertificate(p[0]));
  Object::Ptr o = certificateJson(c);
  auto cert = pki::Certificate::fromDer(c.der);
  if (cert) o->set("pem", cert->toPem());
  return Reply{200, stringify(o), "application/json", {}};
}

pki::Result<AdminService::Reply> AdminService::listCertificates(const AdminRequest& r,
                                                                const Params&) {
  ENROLL_TRY(auto selector, selectorFromQuery(r.query, {"limit", "after", "count"}));
  ENROLL_TRY(int limit, limitOf(r, 100, 10000));
  ENROLL_TRY(auto certs, ctx_.store.listCertificates(selector, limit, queryValue(r, "after")));
  Array::Ptr items = new Array;
  for (const auto& c : certs) items->add(certificateJson(c));
  Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  o->set("certificates", items);
  if (static_cast<int>(certs.size()) == limit) o->set("next", certs.back().serial);
  if (queryValue(r, "count") == "true") {
    ENROLL_TRY(int64_t count, ctx_.store.countCertificates(selector));
    o->set("count", static_cast<Poco::Int64>(count));
  }
  return Reply{200, stringify(o), "application/json", {}};
}

namespace {

Object::Ptr jobJson(const RevocationJob& j) {
  Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  o->set("id", static_cast<Poco::Int64>(j.id));
  o->set("state", j.state);
  o->set("operator", j.operator_name);
  o->set("action", revocationActionName(j.request.action));
  o->set("reason", ca::crlReasonName(j.request.reason));
  o->set("selector", selectorToJson(j.request.selector));
  o->set("done", static_cast<Poco::Int64>(j.done));
  o->set("total", static_cast<Poco::Int64>(j.total));
  o->set("matched", static_cast<Poco::Int64>(j.report.matched));
  o->set("changed", static_cast<Poco::Int64>(j.report.changed));
  o->set("devices_blocked", static_cast<Poco::Int64>(j.report.devices_blocked));
  o->set("started_at", static_cast<Poco::Int64>(j.started_at));
  o->set("finished_at", static_cast<Poco::Int64>(j.finished_at));
  if (!j.error.empty()) o->set("error", j.error);
  return o;
}

pki::Result<int64_t> jobIdOf(const std::string& text) {
  int64_t id = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || p != text.data() + text.size())
    return makeError(ErrorCode::kNotFound, "no job " + text);
  return id;
}

}  // namespace

pki::Result<AdminService::Reply> AdminService::startRevocation(const AdminRequest& r,
                                                               const Params&) {
  if (!ctx_.revocations)
    return makeError(ErrorCode::kUnavailable, "revocation is not available on this server");
  ENROLL_TRY(auto body, jsonBody(r));
  ENROLL_CHECK(onlyKeys(body, {"selector", "action", "reason", "block_devices", "dry_run"}));
  ca::RevocationRequest req;
  if (!body->has("selector") || !body->getObject("selector"))
    return makeError(ErrorCode::kInvalidArgument, "selector (an object) is required");
  ENROLL_TRY(req.selector, selectorFromJson(body->getObject("selector")));
  ENROLL_TRY(std::string action, stringField(body, "action", "revoke"));
  if (action == "hold") {
    req.action = ca::RevocationAction::kHold;
  } else if (action == "release") {
    req.action = ca::RevocationAction::kRelease;
  } else if (action != "revoke") {
    return makeError(ErrorCode::kInvalidArgument, "action is revoke, hold or release");
  }
  if (body->has("reason")) {
    ENROLL_TRY(req.reason, ca::parseCrlReason(body->get("reason").toString()));
    if (req.reason == 6 || req.reason == 8)
      return makeError(
          ErrorCode::kInvalidArgument,
          "use action hold or release instead of reason " + ca::crlReasonName(req.reason));
    if (req.action != ca::RevocationAction::kRevoke)
      return makeError(ErrorCode::kInvalidArgument, "a reason goes with action revoke only");
  }
  for (const char* flag : {"block_devices", "dry_run"}) {
    if (body->has(flag) && !body->get(flag).isBoolean())
      return makeError(ErrorCode::kInvalidArgument, std::string(flag) + " must be true or false");
  }
  req.block_devices = body->optValue("block_devices", false);
  if (req.block_devices && req.action == ca::RevocationAction::kRelease)
    return makeError(ErrorCode::kInvalidArgument, "block_devices does not go with release");
  if (body->optValue("dry_run", false)) {
    ENROLL_TRY(auto report, ctx_.revocations->dryRun(req));
    Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("dry_run", true);
    o->set("matched", static_cast<Poco::Int64>(report.matched));
    Array::Ptr sample = new Array;
    for (const auto& c : report.sample) sample->add(certificateJson(c));
    o->set("sample", sample);
    return Reply{200, stringify(o), "application/json", "dry run"};
  }
  ENROLL_TRY(auto job, ctx_.revocations->start(req, r.principal.name));
  return Reply{202, stringify(jobJson(job)), "application/json", "job " + std::to_string(job.id)};
}

pki::Result<AdminService::Reply> AdminService::showJob(const AdminRequest&, const Params& p) {
  if (!ctx_.revocations) return makeError(ErrorCode::kNotFound, "no jobs on this server");
  ENROLL_TRY(int64_t id, jobIdOf(p[0]));
  ENROLL_TRY(auto job, ctx_.revocations->get(id));
  return Reply{200, stringify(jobJson(job)), "application/json", {}};
}

pki::Result<AdminService::Reply> AdminService::stopJob(const AdminRequest&, const Params& p) {
  if (!ctx_.revocations) return makeError(ErrorCode::kNotFound, "no jobs on this server");
  ENROLL_TRY(int64_t id, jobIdOf(p[0]));
  ENROLL_TRY(auto job, ctx_.revocations->stop(id));
  return Reply{202, stringify(jobJson(job)), "application/json", "job " + p[0]};
}

pki::Result<AdminService::Reply> AdminService::createTokens(const AdminRequest& r, const Params&) {
  ENROLL_TRY(auto body, jsonBody(r));
  ENROLL_CHECK(onlyKeys(body, {"label", "count", "devices", "batch", "expires_days"}));
  provisioning::TokenBatch batch;
  ENROLL_TRY(std::string label, stringField(body, "label", "default"));
  batch.label = labelKey(label);
  if (!ctx_.label_exists(batch.label))
    return makeError(ErrorCode::kNotFound, "no label named '" + label + "'");
  ENROLL_TRY(int64_t count, intField(body, "count", 0));
  if (count < 0 || count > 100000)
    return makeError(ErrorCode::kInvalidArgument, "count must be 1 to 100000");
  batch.count = static_cast<int>(count);
  ENROLL_TRY(batch.device_ids, stringArrayField(body, "devices"));
  ENROLL_TRY(batch.batch, stringField(body, "batch"));
  ENROLL_TRY(int64_t days, intField(body, "expires_days", 30));
  if (days < 1 || days > 3650)
    return makeError(ErrorCode::kInvalidArgument, "expires_days must be 1 to 3650");
  batch.expires_days = static_cast<int>(days);
  std::time_t now = ctx_.clock.now();
  ENROLL_TRY(auto created, provisioning::createEnrollmentTokens(ctx_.store, batch, now));
  Array::Ptr items = new Array;
  for (const auto& t : created) {
    Object::Ptr o = tokenJson(t.record, now);
    o->set("token", t.text.reveal());
    items->add(o);
  }
  Object::Ptr o = new Object;
  o->set("tokens", items);
  return Reply{201, stringify(o), "application/json",
               labelName(batch.label) + ": " + std::to_string(created.size()) + " tokens"};
}

pki::Result<AdminService::Reply> AdminService::listTokens(const AdminRequest& r, const Params&) {
  std::string label = queryValue(r, "label");
  ENROLL_TRY(auto tokens, ctx_.store.listTokens(labelKey(label)));
  std::time_t now = ctx_.clock.now();
  std::string state = queryValue(r, "state");
  Array::Ptr items = new Array;
  for (const auto& t : tokens) {
    if (!label.empty() && labelKey(label) != t.label) continue;
    if (!state.empty() && provisioning::tokenState(t, now) != state) continue;
    items->add(tokenJson(t, now));
  }
  Object::Ptr o = new Object;
  o->set("tokens", items);
  return Reply{200, stringify(o), "application/json", {}};
}

pki::Result<AdminService::Reply> AdminService::revokeToken(const AdminRequest&, const Params& p) {
  // The token text, or the hash a listing shows.
  std::string hash =
      provisioning::looksLikeEnrollmentToken(p[0]) ? provisioning::enrollmentTokenHash(p[0]) : p[0];
  ENROLL_CHECK(ctx_.store.revokeToken(hash, ctx_.clock.now()));
  Object::Ptr o = new Object;
  o->set("revoked", hash);
  return Reply{200, stringify(o), "application/json", hash};
}

pki::Result<AdminService::Reply> AdminService::listStations(const AdminRequest&, const Params&) {
  ENROLL_TRY(auto stations, ctx_.store.listStations());
  Array::Ptr items = new Array;
  for (const auto& s : stations) {
    Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("name", s.name);
    o->set("certificate_sha256", s.certificate_sha256);
    o->set("created_at", static_cast<Poco::Int64>(s.created_at));
    items->add(o);
  }
  Object::Ptr o = new Object;
  o->set("stations", items);
  return Reply{200, stringify(o), "application/json", {}};
}

pki::Result<AdminService::Reply> AdminService::addStation(const AdminRequest& r, const Params&) {
  ENROLL_TRY(auto body, jsonBody(r));
  ENROLL_CHECK(onlyKeys(body, {"name", "certificate"}));
  ENROLL_TRY(std::string name, stringField(body, "name"));
  if (!validOperatorName(name))
    return makeError(ErrorCode::kInvalidArgument,
                     "a station name is 1 to 64 of A-Z a-z 0-9 _ . @ -");
  ENROLL_TRY(std::string pem, stringField(body, "certificate"));
  auto cert = pki::Certificate::fromPem(pem);
  if (!cert)
    return makeError(ErrorCode::kMalformed, "certificate must be the station's PEM certificate");
  auto added = ctx_.store.addStation({name, cert->fingerprintSha256(), ctx_.clock.now()});
  if (!added && added.error().code == ErrorCode::kAlreadyExists)
    return makeError(ErrorCode::kAlreadyExists, "a station with that name or certificate exists");
  ENROLL_CHECK(std::move(added));
  Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  o->set("name", name);
  o->set("subject", cert->subject());
  o->set("certificate_sha256", cert->fingerprintSha256());
  return Reply{201, stringify(o), "application/json", name};
}

pki::Result<AdminService::Reply> AdminService::removeStation(const AdminRequest&, const Params& p) {
  ENROLL_CHECK(ctx_.store.removeStation(p[0]));
  return Reply{204, "", "", p[0]};
}

pki::Result<AdminService::Reply> AdminService::listPending(const AdminRequest&, const Params&) {
  ENROLL_TRY(auto all, ctx_.store.listPending());
  Array::Ptr items = new Array;
  for (const auto& p : all) {
    Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("id", p.id);
    o->set("label", labelName(p.label));
    o->set("device_id", p.device_id);
    o->set("state", store::pendingStateName(p.state));
    o->set("created_at", static_cast<Poco::Int64>(p.created_at));
    o->set("serial", p.serial);
    items->add(o);
  }
  Object::Ptr o = new Object;
  o->set("pending", items);
  return Reply{200, stringify(o), "application/json", {}};
}

pki::Result<AdminService::Reply> AdminService::decidePending(const AdminRequest&, const Params& p) {
  // The id is "label/sha256": the path carries it percent-encoded as one segment.
  const std::string& id = p[0];
  const std::string& verb = p[1];
  if (verb != "approve" && verb != "reject")
    return makeError(ErrorCode::kNotFound, "no such resource");
  auto state = verb == "approve" ? store::PendingRecord::State::kApproved
                                 : store::PendingRecord::State::kRejected;
  ENROLL_CHECK(ctx_.store.decidePending(id, state, ctx_.clock.now()));
  Object::Ptr o = new Object;
  o->set("id", id);
  o->set("state", store::pendingStateName(state));
  return Reply{200, stringify(o), "application/json", id};
}

pki::Result<AdminService::Reply> AdminService::listOperators(const AdminRequest&, const Params&) {
  ENROLL_TRY(auto ops, ctx_.store.listOperators());
  Array::Ptr items = new Array;
  for (const auto& op : ops) {
    Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("name", op.name);
    o->set("role", store::roleName(op.role));
    o->set("certificate_sha256", op.certificate_sha256);
    o->set("created_at", static_cast<Poco::Int64>(op.created_at));
    items->add(o);
  }
  Object::Ptr o = new Object;
  o->set("operators", items);
  return Reply{200, stringify(o), "application/json", {}};
}

pki::Result<AdminService::Reply> AdminService::addOperator(const AdminRequest& r, const Params&) {
  if (!ctx_.admin_ca)
    return makeError(ErrorCode::kUnavailable, "this server has no admin CA key to sign with");
  ENROLL_TRY(auto body, jsonBody(r));
  ENROLL_CHECK(onlyKeys(body, {"name", "role", "csr"}));
  ENROLL_TRY(std::string name, stringField(body, "name"));
  if (!validOperatorName(name))
    return makeError(ErrorCode::kInvalidArgument,
                     "an operator name is 1 to 64 of A-Z a-z 0-9 _ . @ -");
  ENROLL_TRY(std::string role_name, stringField(body, "role"));
  Role role;
  if (!store::parseRole(role_name, &role))
    return makeError(ErrorCode::kInvalidArgument, "role must be viewer, operator or admin");
  ENROLL_TRY(std::string csr_pem, stringField(body, "csr"));
  auto csr = pki::CertificateRequest::fromPem(csr_pem);
  if (!csr) return makeError(ErrorCode::kMalformed, "csr must be a PEM certificate request");
  ENROLL_CHECK(csr->verifySignature());
  std::time_t now = ctx_.clock.now();
  ENROLL_TRY(auto cert,
             issueOperatorCertificate(*ctx_.admin_ca, name, role, csr->publicKey(), now));
  auto added = ctx_.store.addOperator({name, cert.fingerprintSha256(), role, now});
  if (!added && added.error().code == ErrorCode::kAlreadyExists)
    return makeError(ErrorCode::kAlreadyExists, "an operator named " + name + " exists");
  ENROLL_CHECK(std::move(added));
  Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  o->set("name", name);
  o->set("role", role_name);
  o->set("certificate", cert.toPem());
  o->set("ca_certificate", ctx_.admin_ca->certificate.toPem());
  return Reply{201, stringify(o), "application/json", name};
}

pki::Result<AdminService::Reply> AdminService::removeOperator(const AdminRequest& r,
                                                              const Params& p) {
  if (p[0] == r.principal.name)
    return makeError(ErrorCode::kInvalidArgument, "an operator cannot remove themself");
  ENROLL_CHECK(ctx_.store.removeOperator(p[0]));
  return Reply{204, "", "", p[0]};
}

pki::Result<AdminService::Reply> AdminService::readAudit(const AdminRequest& r, const Params&) {
  int64_t after = 0;
  std::string text = queryValue(r, "after");
  if (!text.empty()) {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), after);
    if (ec != std::errc() || ptr != text.data() + text.size() || after < 0)
      return makeError(ErrorCode::kInvalidArgument, "after must be a sequence number");
  }
  ENROLL_TRY(int limit, limitOf(r, 1000, 10000));
  ENROLL_TRY(auto entries, ctx_.store.auditEntries(after, limit));
  Array::Ptr items = new Array;
  for (const auto& e : entries) items->add(auditJson(e));
  Object::Ptr o = new Object;
  o->set("entries", items);
  return Reply{200, stringify(o), "application/json", {}};
}

}  // namespace enroll::admin

#include "server/store/records.h"

namespace enroll::store {

std::string certStatusName(CertStatus s) {
  switch (s) {
    case CertStatus::kGood:
      return "good";
    case CertStatus::kRevoked:
      return "revoked";
    case CertStatus::kHold:
      return "hold";
  }
  return "good";
}

CertStatus parseCertStatus(const std::string& s) {
  if (s == "revoked") return CertStatus::kRevoked;
  if (s == "hold") return CertStatus::kHold;
  return CertStatus::kGood;
}

bool CertificateSelector::empty() const {
  return serials.empty() && device_ids.empty() && model.empty() && batch.empty() &&
         product_line.empty() && device_labels.empty() && label.empty() && bootstrap_ca.empty() &&
         station.empty() && issued_from == 0 && issued_to == 0 && expiring_before == 0 &&
         !status.has_value();
}

std::string deviceStateName(DeviceState s) {
  switch (s) {
    case DeviceState::kExpected:
      return "expected";
    case DeviceState::kEnrolled:
      return "enrolled";
    case DeviceState::kBlocked:
      return "blocked";
    case DeviceState::kRetired:
      return "retired";
  }
  return "expected";
}

bool parseDeviceState(const std::string& s, DeviceState* out) {
  if (s == "expected")
    *out = DeviceState::kExpected;
  else if (s == "enrolled")
    *out = DeviceState::kEnrolled;
  else if (s == "blocked")
    *out = DeviceState::kBlocked;
  else if (s == "retired")
    *out = DeviceState::kRetired;
  else
    return false;
  return true;
}

std::string pendingStateName(PendingRecord::State s) {
  switch (s) {
    case PendingRecord::State::kPending:
      return "pending";
    case PendingRecord::State::kApproved:
      return "approved";
    case PendingRecord::State::kRejected:
      return "rejected";
    case PendingRecord::State::kIssued:
      return "issued";
  }
  return "pending";
}

PendingRecord::State parsePendingState(const std::string& s) {
  if (s == "approved") return PendingRecord::State::kApproved;
  if (s == "rejected") return PendingRecord::State::kRejected;
  if (s == "issued") return PendingRecord::State::kIssued;
  return PendingRecord::State::kPending;
}

std::string roleName(Role r) {
  switch (r) {
    case Role::kViewer:
      return "viewer";
    case Role::kOperator:
      return "operator";
    case Role::kAdmin:
      return "admin";
  }
  return "viewer";
}

bool parseRole(const std::string& s, Role* out) {
  if (s == "viewer")
    *out = Role::kViewer;
  else if (s == "operator")
    *out = Role::kOperator;
  else if (s == "admin")
    *out = Role::kAdmin;
  else
    return false;
  return true;
}

std::string auditEntryHash(const AuditEntry& e) {
  std::string text;
  auto field = [&text](const std::string& v) {
    text += std::to_string(v.size());
    text += ':';
    text += v;
    text += '\n';
  };
  field(e.prev_hash);
  field(std::to_string(e.seq));
  field(std::to_string(static_cast<int64_t>(e.at)));
  field(e.actor);
  field(e.action);
  field(e.target);
  field(e.outcome);
  field(e.detail);
  return pki::hexEncode(pki::sha256(text));
}

bool AuditChainVerifier::add(const AuditEntry& e) {
  if (e.seq != last_seq_ + 1) {
    reason_ = "entry " + std::to_string(last_seq_ + 1) + " is missing (next is " +
              std::to_string(e.seq) + ")";
    return false;
  }
  if (e.prev_hash != last_hash_) {
    reason_ =
        "entry " + std::to_string(e.seq) + " does not link to entry " + std::to_string(last_seq_);
    return false;
  }
  if (auditEntryHash(e) != e.hash) {
    reason_ = "entry " + std::to_string(e.seq) + " was modified (its hash does not match)";
    return false;
  }
  last_seq_ = e.seq;
  last_hash_ = e.hash;
  return true;
}

AuditEntry auditEntryOf(const EnrollmentEvent& e) {
  AuditEntry a;
  a.at = e.at;
  a.actor = e.device_id.empty() ? "peer:" + e.peer : "device:" + e.device_id;
  a.action = "enroll." + e.operation;
  a.target = e.serial.empty() ? e.device_id : e.serial;
  a.outcome = e.outcome;
  std::string label = e.label.empty() ? "default" : e.label;
  // JSON text by hand: the values are our own names and short reasons; quote and escape them.
  auto quoted = [](const std::string& v) {
    std::string out = "\"";
    for (char c : v) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        out += ' ';
      } else {
        out += c;
      }
    }
    return out + "\"";
  };
  a.detail = "{\"protocol\":" + quoted(e.protocol) + ",\"label\":" + quoted(label) +
             ",\"peer\":" + quoted(e.peer) + ",\"reason\":" + quoted(e.reason) + "}";
  return a;
}

}  // namespace enroll::store

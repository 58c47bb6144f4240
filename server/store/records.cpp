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

}  // namespace enroll::store

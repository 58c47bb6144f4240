#pragma once
/**
 * Bootstrap trust: named sets of manufacturer CAs (trust anchors plus intermediates) that
 * bootstrap certificates (IDevID, IEEE 802.1AR) must chain to. Immutable once built; enrolld
 * builds a new one on SIGHUP and swaps it in.
 */
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "pki/certificate.h"

namespace enroll::provisioning {

/** One manufacturer's anchors and intermediates, under a name labels refer to. */
struct TrustAnchorSet {
  std::string name;
  std::vector<pki::Certificate> anchors;
  std::vector<pki::Certificate> intermediates;
};

/** The result of a successful chain verification. */
struct VerifiedChain {
  std::string anchor_set;  ///< which set it chained to
  pki::Certificate leaf;
  std::vector<pki::Certificate> path;  ///< leaf first, anchor last
};

class TrustStore {
 public:
  TrustStore() = default;
  /** Adds a set; InvalidArgument if it has no anchor or a certificate in it is not a CA. */
  pki::Result<void> add(TrustAnchorSet set);
  bool has(const std::string& name) const { return sets_.contains(name); }
  std::vector<std::string> names() const;

  /**
   * Verifies presented (leaf first, then what the peer sent) against the named sets at time now.
   * Unauthenticated with a reason (unknown CA, expired, not yet valid, wrong key usage).
   */
  pki::Result<VerifiedChain> verify(const std::vector<pki::Certificate>& presented,
                                    const std::vector<std::string>& set_names,
                                    std::time_t now) const;

 private:
  std::map<std::string, TrustAnchorSet> sets_;
};

/**
 * Verifies a chain against explicit anchors (shared with renewal checks against our own CA).
 * check_time is the time to verify at.
 */
pki::Result<std::vector<pki::Certificate>> verifyChain(
    const std::vector<pki::Certificate>& presented, const std::vector<pki::Certificate>& anchors,
    const std::vector<pki::Certificate>& intermediates, std::time_t check_time);

/** Where the device id is read from in a bootstrap certificate. */
enum class DeviceIdSource { kSubjectSerialNumber, kSubjectCommonName, kHardwareModuleName };
pki::Result<DeviceIdSource> parseDeviceIdSource(const std::string& s);

/**
 * The device id carried by a bootstrap certificate: the subject serialNumber attribute, the CN,
 * or the hwSerialNum of a HardwareModuleName otherName SAN (RFC 4108 5). kSubjectSerialNumber
 * falls back to the CN when the attribute is absent.
 */
pki::Result<std::string> deviceIdOf(const pki::Certificate& cert, DeviceIdSource source);

}  // namespace enroll::provisioning

#include "protocols/enrollment/enrollment.h"

namespace enroll::enrollment {

std::string_view protocolName(Protocol p) {
  switch (p) {
    case Protocol::kEst:
      return "est";
    case Protocol::kEstCoaps:
      return "est-coaps";
    case Protocol::kScep:
      return "scep";
  }
  return "unknown";
}

std::string_view operationName(Operation op) {
  switch (op) {
    case Operation::kEnroll:
      return "enroll";
    case Operation::kReEnroll:
      return "reenroll";
    case Operation::kServerKeyGen:
      return "serverkeygen";
  }
  return "unknown";
}

}  // namespace enroll::enrollment

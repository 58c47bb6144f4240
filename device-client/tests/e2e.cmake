# End-to-end test against the real server: needs the enrolld target (top-level build) or
# -DENROLLD_BINARY=/path/to/enrolld (standalone build of device-client).
find_program(EDC_OPENSSL_E2E openssl)
if(TARGET enrolld)
  set(EDC_ENROLLD $<TARGET_FILE:enrolld>)
elseif(ENROLLD_BINARY)
  set(EDC_ENROLLD ${ENROLLD_BINARY})
endif()
if(EDC_ENROLLD AND EDC_OPENSSL_E2E)
  # The same scenario over EST-HTTPS and over EST-coaps (RFC 9148).
  foreach(t https coaps)
    if(t STREQUAL "https")
      set(name device_client.e2e.EnrollReenrollRenewAndOutage)
    else()
      set(name device_client.e2e.CoapsEnrollReenrollRenewAndOutage)
    endif()
    add_test(NAME ${name}
             COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/tests/e2e_enroll.sh ${EDC_ENROLLD}
                     $<TARGET_FILE:enroll-device> ${CMAKE_CURRENT_BINARY_DIR}/e2e-${t} ${t})
    set_tests_properties(${name} PROPERTIES LABELS "device-client;e2e" TIMEOUT 120)
  endforeach()
else()
  message(STATUS "device-client e2e test not registered: no enrolld target and no ENROLLD_BINARY")
endif()

# Host tests of the device client: every Unity-style test file runs as its own GoogleTest
# executable through gtest_unity_adapter.cpp (see unity_compat.h).
find_package(GTest REQUIRED)
include(GoogleTest)

set(EDC_TEST_DIR ${CMAKE_CURRENT_SOURCE_DIR}/tests)
set(EDC_VECTOR_FILES
  chain3.p7b chain3.p7b.b64 chain3.p7b.b64line single.p7b cacerts.p7b
  device.der device.pem device.key.der device.pub.der root.der root.pem root.key
  issuing.pem issuing.key openssl-csr.der root.sha256
  coap-get-crts.bin coap-post-sen-block0.bin coap-csr.der server.der server.key.der root.key.der)
list(TRANSFORM EDC_VECTOR_FILES PREPEND ${EDC_TEST_DIR}/vectors/ OUTPUT_VARIABLE EDC_VECTOR_PATHS)
string(REPLACE ";" "|" EDC_VECTOR_ARG "${EDC_VECTOR_PATHS}")
set(EDC_VEC_GEN ${CMAKE_CURRENT_BINARY_DIR}/generated)
add_custom_command(
  OUTPUT ${EDC_VEC_GEN}/edc_test_vectors.c ${EDC_VEC_GEN}/edc_test_vectors.h
  COMMAND ${CMAKE_COMMAND} -DOUT_C=${EDC_VEC_GEN}/edc_test_vectors.c
          -DOUT_H=${EDC_VEC_GEN}/edc_test_vectors.h "-DFILES=${EDC_VECTOR_ARG}"
          -P ${EDC_TEST_DIR}/embed_vectors.cmake
  DEPENDS ${EDC_VECTOR_PATHS} ${EDC_TEST_DIR}/embed_vectors.cmake
  COMMENT "Embedding device-client test vectors"
  VERBATIM)

add_library(edc_test_support STATIC
  ${EDC_VEC_GEN}/edc_test_vectors.c
  ${EDC_TEST_DIR}/test_support.c
  ${EDC_TEST_DIR}/se_double.c
  ${EDC_TEST_DIR}/ucx_core.c)
target_include_directories(edc_test_support PUBLIC ${EDC_VEC_GEN} ${EDC_TEST_DIR})
target_link_libraries(edc_test_support PUBLIC edc)

# edc_add_unity_test(<file stem> <group function> [extra libs...])
function(edc_add_unity_test stem group)
  add_executable(edc_${stem} ${EDC_TEST_DIR}/${stem}.c ${EDC_TEST_DIR}/gtest_unity_adapter.cpp)
  target_compile_definitions(edc_${stem} PRIVATE UCX_GROUP_FN=${group})
  target_link_libraries(edc_${stem} PRIVATE edc_test_support GTest::gtest ${ARGN})
  gtest_discover_tests(edc_${stem} TEST_PREFIX "device_client." DISCOVERY_TIMEOUT 30
                       PROPERTIES LABELS device-client)
endfunction()

edc_add_unity_test(test_base64 ucx_group_base64)
edc_add_unity_test(test_pkcs7 ucx_group_pkcs7)
edc_add_unity_test(test_csr ucx_group_csr)
edc_add_unity_test(test_http ucx_group_http)
edc_add_unity_test(test_coap ucx_group_coap)
edc_add_unity_test(test_coaps ucx_group_coaps)
edc_add_unity_test(test_sched ucx_group_sched)
edc_add_unity_test(test_bundle ucx_group_bundle)
edc_add_unity_test(test_posix_store ucx_group_posix_store edc_port_posix)
edc_add_unity_test(test_client ucx_group_client edc_port_posix)
edc_add_unity_test(test_mbedtls_quirks ucx_group_mbedtls_quirks)

# The CSR we write, checked by openssl at test time (independent verifier).
find_program(EDC_OPENSSL openssl)
if(EDC_OPENSSL)
  add_test(NAME device_client.CsrVerifiesWithOpenssl
           COMMAND sh ${EDC_TEST_DIR}/csr_openssl_verify.sh $<TARGET_FILE:enroll-device> ${EDC_OPENSSL}
                   ${CMAKE_CURRENT_BINARY_DIR}/csr-check)
  set_tests_properties(device_client.CsrVerifiesWithOpenssl PROPERTIES LABELS device-client TIMEOUT 60)
endif()

# EST-coaps against libcoap's DTLS server (Debian libcoap3-bin), when installed.
find_program(EDC_COAP_SERVER coap-server-openssl)
find_program(EDC_COAP_CLIENT coap-client-openssl)
find_program(EDC_PYTHON3 python3)
if(EDC_OPENSSL AND EDC_COAP_SERVER AND EDC_COAP_CLIENT AND EDC_PYTHON3)
  add_test(NAME device_client.CoapsCacertsAgainstLibcoap
           COMMAND sh ${EDC_TEST_DIR}/coaps_libcoap_interop.sh $<TARGET_FILE:enroll-device>
                   ${EDC_COAP_SERVER} ${EDC_COAP_CLIENT} ${EDC_TEST_DIR}/vectors
                   ${CMAKE_CURRENT_BINARY_DIR}/coaps-interop)
  set_tests_properties(device_client.CoapsCacertsAgainstLibcoap PROPERTIES LABELS device-client TIMEOUT 60)
else()
  message(STATUS "device-client: libcoap interop test skipped (libcoap3-bin not installed)")
endif()

include(${EDC_TEST_DIR}/e2e.cmake OPTIONAL)
include(${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz.cmake)

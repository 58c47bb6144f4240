# libFuzzer targets for the device client's decoders (fuzz/README.md). They are built with
# clang's -fsanitize=fuzzer,address,undefined beside the main compiler, and CTest runs each for
# a fixed number of inputs from its seed corpus (deterministic seed), so a crash, a leak, an
# out-of-bounds view or undefined behaviour fails the suite.
find_program(EDC_CLANG clang)
if(NOT EDC_CLANG)
  message(STATUS "device-client: fuzz targets skipped (no clang)")
  return()
endif()
set(EDC_FUZZ_DIR ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
set(EDC_FUZZ_OUT ${CMAKE_CURRENT_BINARY_DIR}/fuzz)
set(EDC_FUZZ_LIB_SRCS src/edc_pkcs7.c src/edc_http.c src/edc_base64.c src/edc_coap.c
                      src/edc_error.c)
list(TRANSFORM EDC_FUZZ_LIB_SRCS PREPEND ${CMAKE_CURRENT_SOURCE_DIR}/)
set(EDC_FUZZ_RUNS 1000000 CACHE STRING "inputs per fuzz target in the CTest run")
set(edc_fuzzers "")
foreach(t pkcs7 http coap)
  set(bin ${EDC_FUZZ_OUT}/fuzz_${t})
  add_custom_command(OUTPUT ${bin}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${EDC_FUZZ_OUT}
    COMMAND ${EDC_CLANG} -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined
            -fno-sanitize-recover=undefined -DEDC_WITH_EST_HTTPS=1 -DEDC_WITH_EST_COAPS=1
            -I${CMAKE_CURRENT_SOURCE_DIR}/include -I${MBEDTLS_INCLUDE_DIR}
            ${EDC_FUZZ_DIR}/fuzz_${t}.c ${EDC_FUZZ_LIB_SRCS} ${MBEDCRYPTO_LIBRARY} -o ${bin}
    DEPENDS ${EDC_FUZZ_DIR}/fuzz_${t}.c ${EDC_FUZZ_LIB_SRCS}
    COMMENT "libFuzzer target fuzz_${t}" VERBATIM)
  list(APPEND edc_fuzzers ${bin})
  add_test(NAME device_client.fuzz.${t}
           COMMAND sh -c "rm -rf \"$1\" && mkdir -p \"$1\" && exec \"$0\" -seed=1 -runs=$2 -max_len=4096 \"$1\" \"$3\""
                   ${bin} ${EDC_FUZZ_OUT}/work-${t} ${EDC_FUZZ_RUNS} ${EDC_FUZZ_DIR}/corpus/${t})
  set_tests_properties(device_client.fuzz.${t} PROPERTIES LABELS "device-client;fuzz" TIMEOUT 300)
endforeach()
add_custom_target(edc_fuzzers ALL DEPENDS ${edc_fuzzers})

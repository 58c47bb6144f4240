# cmake -DQEMU=qemu-system-arm -DMACHINE=mps2-an386 -DELF=x.elf -DLOG=x.log -P run_qemu.cmake
# Runs one image under QEMU with semihosting and -icount (instruction-driven virtual clock).
# Passes only if QEMU exits 0 (the image's exit code via SYS_EXIT_EXTENDED) AND the last line
# printed is exactly "PASS".
if(NOT EXISTS "${ELF}")
  message(FATAL_ERROR "image not built: ${ELF}")
endif()
execute_process(
  COMMAND ${QEMU} -M ${MACHINE} -nographic -monitor none -serial null
          -semihosting-config enable=on,target=native -icount shift=0 -kernel ${ELF}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out TIMEOUT 150)
# (QEMU writes the semihosting console to stderr; both streams are merged into out.)
file(WRITE "${LOG}" "${out}")
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "QEMU exit code ${rc} (expected 0)")
endif()
string(STRIP "${out}" stripped)
string(FIND "${stripped}" "\n" nl REVERSE)
math(EXPR start "${nl} + 1")
string(SUBSTRING "${stripped}" ${start} -1 last)
if(NOT last STREQUAL "PASS")
  message(FATAL_ERROR "last line is '${last}', expected 'PASS'")
endif()

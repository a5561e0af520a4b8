# ctest's check of one mutant (cuda-kernels/emu/CMakeLists.txt): runs BINARY -x GROUPS and passes when the emulated
# tests failed a check whose FAIL line matches EXPECT, that is, when they caught the planted bug.
#   cmake -DBINARY=... -DGROUPS=... -DEXPECT=... -P expect_failure.cmake
separate_arguments(groups UNIX_COMMAND "${GROUPS}")
execute_process(COMMAND ${BINARY} -x ${groups} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "the mutant passed the emulated tests: they did not catch its bug\n${out}${err}")
endif()
string(REPLACE "\n" ";" lines "${out}")
foreach(line IN LISTS lines)
  if(line MATCHES "${EXPECT}")
    message(STATUS "caught: ${line}")
    return()
  endif()
endforeach()
message(FATAL_ERROR "the mutant failed (status ${rc}), but no FAIL line matches ${EXPECT}\n${out}${err}")

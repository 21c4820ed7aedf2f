# ctest library_example: runs the complete example of docs/library.md and compares what it
# prints with the output block under it in the guide. In that block "…" stands for any
# text, within one line, that differs from run to run (hashes, signatures, keys).
#   cmake -DEXAMPLE=<program> -DEXPECTED=<expected output> -P library_example.cmake
execute_process(COMMAND ${EXAMPLE} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the example failed (${rc}):\n${out}${err}")
endif()
file(READ ${EXPECTED} expected)
# The expected text as a regular expression: literal, except "…".
string(REGEX REPLACE "([][\\.*+?^$()|])" "\\\\\\1" pattern "${expected}")
string(REPLACE "…" "[^\n]*" pattern "${pattern}")
if(NOT out MATCHES "^${pattern}$")
  message(FATAL_ERROR "the example's output differs from docs/library.md.\n"
                      "--- expected (docs/library.md)\n${expected}--- printed\n${out}${err}")
endif()
message(STATUS "the example ran and printed what docs/library.md shows")

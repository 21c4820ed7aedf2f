# Fails when docs/openapi.json differs from what `timebankd openapi` prints.
# Regenerate with: build/node/timebankd openapi > docs/openapi.json
execute_process(COMMAND ${GENERATOR} openapi OUTPUT_VARIABLE generated RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "timebankd openapi failed (${rc})")
endif()
file(READ ${EXPECTED} expected)
if(NOT generated STREQUAL expected)
  message(FATAL_ERROR "docs/openapi.json is out of date with node/routes.cc; regenerate it: "
                      "build/node/timebankd openapi > docs/openapi.json")
endif()
